// The C side of TaktPlatform: the few Linux interfaces Swift cannot call directly.
//
// Swift's Glibc module is built without _GNU_SOURCE, so it does not see recvmmsg, sendmmsg,
// struct mmsghdr, ppoll or the CPU_SET macros; prctl and fcntl are variadic; CMSG_* are macros.
// Each function here is a thin wrapper: no policy, no retries (EINTR is handled by the Swift caller,
// which says so at the call site), errors returned as a positive errno (or -errno from counts).
// Types that need _GNU_SOURCE never appear in this header: message vectors are opaque bytes whose
// size and layout only the .c file knows.
#ifndef TAKT_PLATFORM_H
#define TAKT_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

// MARK: Fault injection (tests)

/// Operations whose failure tests can force, per thread. Keep in step with `FaultableOperation`.
enum {
    TAKT_OP_SOCKET = 0,
    TAKT_OP_SETSOCKOPT,
    TAKT_OP_BIND,
    TAKT_OP_SEND,
    TAKT_OP_RECEIVE,
    TAKT_OP_POLL,
    TAKT_OP_CLOCK_NANOSLEEP,
    TAKT_OP_SCHED_SETSCHEDULER,
    TAKT_OP_MLOCKALL,
    TAKT_OP_SCHED_SETAFFINITY,
    TAKT_OP_TIMER_SLACK,
    TAKT_OP_OPEN,
    TAKT_OP_WRITE,
    TAKT_OP_READ,
    TAKT_OP_FSYNC,
    TAKT_OP_FSYNC_DIRECTORY,
    TAKT_OP_RENAME,
    TAKT_OP_UNLINK,
    TAKT_OP_MKDIR,
    TAKT_OP_ACCESS,
    TAKT_OP_COUNT
};

/// The next `count` calls of `operation` on the calling thread fail with `error` without reaching
/// the kernel. `count` 0 clears. Out-of-range operations are ignored.
void takt_fault_inject(int operation, int error, int count);

/// The errno to inject for this call of `operation` on this thread (and one use consumed), or 0.
int takt_fault_take(int operation);

// MARK: Errno text

/// "EPERM", or NULL when glibc does not know the number.
const char *takt_errno_name(int error);
/// "Operation not permitted", or NULL when glibc does not know the number.
const char *takt_errno_description(int error);

// MARK: Message vectors for recvmmsg/sendmmsg

/// Size and alignment of one struct mmsghdr.
size_t takt_message_header_bytes(void);
size_t takt_message_header_alignment(void);
/// CMSG_SPACE(sizeof(struct timespec)): control bytes one SCM_TIMESTAMPNS message needs.
size_t takt_timestamp_control_bytes(void);

/// Points entry `index` of the mmsghdr vector `vector` at its name (sockaddr_in) buffer, its single
/// iovec and its control buffer. `iov` must stay valid as long as the vector is used.
void takt_message_header_prepare(void *vector, unsigned index, void *name, uint32_t name_bytes,
                                 void *iov, void *control, size_t control_bytes);

/// What recvmmsg reported for one datagram.
typedef struct {
    uint32_t length;           ///< bytes stored in the buffer (≤ the buffer size)
    uint32_t truncated;        ///< 1 when the datagram was longer than the buffer (MSG_TRUNC)
    uint32_t source_address;   ///< IPv4, network byte order
    uint16_t source_port;      ///< network byte order
    uint16_t has_timestamp;    ///< 1 when an SCM_TIMESTAMPNS control message was found
    int64_t realtime_ns;       ///< the kernel timestamp, CLOCK_REALTIME ns (when has_timestamp)
} takt_datagram_info;

/// Resets the name and control lengths of entries [0, count), calls recvmmsg(fd, vector, count,
/// MSG_DONTWAIT, NULL) once and fills info[0..<n]. Returns n ≥ 0, or -errno.
int takt_receive_batch(int fd, void *vector, unsigned count, takt_datagram_info *info);

/// Points the iovecs of entries [0, count) at the frame, then calls sendmmsg(fd, vector + start,
/// count - start, MSG_DONTWAIT) once. Returns how many were sent (≥ 0), or -errno when the first
/// one failed.
int takt_send_vector(int fd, void *vector, unsigned start, unsigned count, const void *frame, size_t length);

// MARK: Sockets, polling, scheduling

/// socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP): fd, or -errno.
int takt_udp_socket(void);

/// ppoll for POLLIN on one descriptor with a relative timeout of `timeout_ns` (≥ 0).
/// Returns 1 readable (or an error condition is pending on it), 0 timed out, or -errno.
int takt_poll_readable(int fd, int64_t timeout_ns);

/// prctl(PR_SET_TIMERSLACK, ns): 0 or errno.
int takt_set_timer_slack(uint64_t nanoseconds);
/// prctl(PR_GET_TIMERSLACK): the calling thread's timer slack in ns, or -errno.
int64_t takt_timer_slack(void);

/// sched_setaffinity(0, …) to exactly the CPUs listed: 0 or errno (EINVAL for a CPU outside
/// [0, CPU_SETSIZE)).
int takt_set_affinity(const int32_t *cpus, int count);
/// sched_getaffinity(0, …): writes up to `capacity` CPU numbers, returns how many are set, or -errno.
int takt_affinity(int32_t *cpus, int capacity);

/// getrlimit for RLIMIT_RTPRIO (which = 0) or RLIMIT_MEMLOCK (which = 1): 0 or errno.
/// RLIM_INFINITY is reported as UINT64_MAX.
int takt_resource_limit(int which, uint64_t *soft, uint64_t *hard);

#endif

/* prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` to this process when its parent
   exits (a node started by `takt cluster` never outlives it). 0 on success, else -errno. */
int takt_set_parent_death_signal(int signal);
