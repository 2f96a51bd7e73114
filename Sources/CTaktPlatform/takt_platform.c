// Implementation of takt_platform.h. Compiled with _GNU_SOURCE, so struct mmsghdr, recvmmsg,
// sendmmsg, ppoll, CPU_SET and strerrorname_np are visible here and only here.
#define _GNU_SOURCE
#include "takt_platform.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdalign.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

// MARK: Fault injection

static _Thread_local int fault_error[TAKT_OP_COUNT];
static _Thread_local int fault_remaining[TAKT_OP_COUNT];

void takt_fault_inject(int operation, int error, int count) {
    if (operation < 0 || operation >= TAKT_OP_COUNT) return;
    fault_error[operation] = error;
    fault_remaining[operation] = count > 0 ? count : 0;
}

int takt_fault_take(int operation) {
    if (operation < 0 || operation >= TAKT_OP_COUNT) return 0;
    if (fault_remaining[operation] == 0) return 0;
    fault_remaining[operation] -= 1;
    return fault_error[operation];
}

// MARK: Errno text

const char *takt_errno_name(int error) { return strerrorname_np(error); }
const char *takt_errno_description(int error) { return strerrordesc_np(error); }

// MARK: Message vectors

size_t takt_message_header_bytes(void) { return sizeof(struct mmsghdr); }
size_t takt_message_header_alignment(void) { return alignof(struct mmsghdr); }
size_t takt_timestamp_control_bytes(void) { return CMSG_SPACE(sizeof(struct timespec)); }

void takt_message_header_prepare(void *vector, unsigned index, void *name, uint32_t name_bytes,
                                 void *iov, void *control, size_t control_bytes) {
    struct mmsghdr *entry = (struct mmsghdr *)vector + index;
    memset(entry, 0, sizeof *entry);
    entry->msg_hdr.msg_name = name;
    entry->msg_hdr.msg_namelen = name_bytes;
    entry->msg_hdr.msg_iov = (struct iovec *)iov;
    entry->msg_hdr.msg_iovlen = 1;
    entry->msg_hdr.msg_control = control;
    entry->msg_hdr.msg_controllen = control_bytes;
}

int takt_receive_batch(int fd, void *vector, unsigned count, takt_datagram_info *info) {
    struct mmsghdr *entries = (struct mmsghdr *)vector;
    // recvmmsg overwrites the name and control lengths with what it stored: restore the capacities.
    // The capacities are the sizes prepare() was given; the name is always a sockaddr_in and the
    // control buffer is exactly one timestamp message.
    for (unsigned i = 0; i < count; i++) {
        entries[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
        entries[i].msg_hdr.msg_controllen = entries[i].msg_hdr.msg_control ? CMSG_SPACE(sizeof(struct timespec)) : 0;
        entries[i].msg_hdr.msg_flags = 0;
        entries[i].msg_len = 0;
    }
    int received = recvmmsg(fd, entries, count, MSG_DONTWAIT, NULL);
    if (received < 0) return -errno;
    for (int i = 0; i < received; i++) {
        struct msghdr *header = &entries[i].msg_hdr;
        takt_datagram_info *out = &info[i];
        out->length = entries[i].msg_len;
        out->truncated = (header->msg_flags & MSG_TRUNC) ? 1 : 0;
        const struct sockaddr_in *source = (const struct sockaddr_in *)header->msg_name;
        if (header->msg_namelen >= sizeof(struct sockaddr_in) && source->sin_family == AF_INET) {
            out->source_address = source->sin_addr.s_addr;
            out->source_port = source->sin_port;
        } else {
            out->source_address = 0;
            out->source_port = 0;
        }
        out->has_timestamp = 0;
        out->realtime_ns = 0;
        if (header->msg_flags & MSG_CTRUNC) continue;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(header); c != NULL; c = CMSG_NXTHDR(header, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
                c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
                struct timespec stamp;
                memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
                out->realtime_ns = (int64_t)stamp.tv_sec * 1000000000 + (int64_t)stamp.tv_nsec;
                out->has_timestamp = 1;
                break;
            }
        }
    }
    return received;
}

int takt_send_vector(int fd, void *vector, unsigned start, unsigned count, const void *frame, size_t length) {
    struct mmsghdr *entries = (struct mmsghdr *)vector;
    if (start >= count) return 0;
    for (unsigned i = start; i < count; i++) {
        entries[i].msg_hdr.msg_iov->iov_base = (void *)frame;
        entries[i].msg_hdr.msg_iov->iov_len = length;
        entries[i].msg_hdr.msg_control = NULL;
        entries[i].msg_hdr.msg_controllen = 0;
        entries[i].msg_hdr.msg_flags = 0;
    }
    int sent = sendmmsg(fd, entries + start, count - start, MSG_DONTWAIT);
    return sent < 0 ? -errno : sent;
}

// MARK: Sockets, polling, scheduling

int takt_udp_socket(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    return fd < 0 ? -errno : fd;
}

int takt_poll_readable(int fd, int64_t timeout_ns) {
    struct pollfd entry = { .fd = fd, .events = POLLIN, .revents = 0 };
    if (timeout_ns < 0) timeout_ns = 0;
    struct timespec timeout = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 };
    int ready = ppoll(&entry, 1, &timeout, NULL);
    if (ready < 0) return -errno;
    if (ready > 0 && (entry.revents & POLLNVAL)) return -EBADF;
    return ready > 0 ? 1 : 0;
}

int takt_set_timer_slack(uint64_t nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, (unsigned long)nanoseconds, 0, 0, 0) == 0 ? 0 : errno;
}

int64_t takt_timer_slack(void) {
    int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    return slack < 0 ? -(int64_t)errno : (int64_t)slack;
}

int takt_set_affinity(const int32_t *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return EINVAL;
        CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}

int takt_affinity(int32_t *cpus, int capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -errno;
    int found = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        if (found < capacity) cpus[found] = cpu;
        found++;
    }
    return found;
}

int takt_resource_limit(int which, uint64_t *soft, uint64_t *hard) {
    struct rlimit limit;
    int resource = which == 0 ? RLIMIT_RTPRIO : RLIMIT_MEMLOCK;
    if (which != 0 && which != 1) return EINVAL;
    if (getrlimit(resource, &limit) != 0) return errno;
    *soft = limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)limit.rlim_cur;
    *hard = limit.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)limit.rlim_max;
    return 0;
}

int takt_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0) == 0 ? 0 : -errno;
}
