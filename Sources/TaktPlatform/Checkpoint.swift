// Stable storage: a node's checkpoint, written so that no committed generation is lost when the
// process is killed at any instant, and so that a torn or corrupted file is detected and ignored
// (issue #6, point 4; Docs/platform.md, "Stable storage").
//
// Files, in the store's directory, for a store named NAME:
//   NAME.a, NAME.b   the two committed copies ("slots"); a save replaces the one that does NOT hold
//                    the newest valid generation, so the previous generation survives a later
//                    corruption of the newest file;
//   NAME.tmp         a save in progress; never read; removed by `load()` (a leftover means a save
//                    was interrupted before its rename, so it was never committed).
//
// Format (version 1), all integers little-endian, one file = header + payload, nothing after:
//   offset  0  8 bytes  magic "TAKTCKPT"
//   offset  8  UInt32   format version (1)
//   offset 12  UInt32   header length in bytes (32)
//   offset 16  UInt64   generation
//   offset 24  UInt32   payload length n (0 ≤ n ≤ 16 MiB)
//   offset 28  UInt32   CRC-32C (TaktProtocol's `CRC32C`) over bytes [0, 28) then the payload
//   offset 32  n bytes  payload
//
// Save, in order (each step a crash point the tests stop at):
//   1. encode header + payload into the store's buffer (allocated once, at init);
//   2. open NAME.tmp (O_CREAT | O_TRUNC), write the whole buffer (EINTR and short writes retried);
//   3. fsync(NAME.tmp): the bytes are on stable storage before any name points at them;
//   4. close; renameat(NAME.tmp → NAME.a or NAME.b): atomic, the slot holds the old or the new file;
//   5. fsync(directory): the rename itself is on stable storage. Only now does `save` return.
// A crash (or kill -9) before step 4 leaves the old slot untouched; after it, the new file is
// complete (written in full before the rename). Steps 3 and 5 matter only for power loss (or a
// kernel crash): without 3 the renamed file may come back empty or with zeroed blocks, without 5
// the rename may be undone, losing a generation that `save` reported committed.
//
// Load reads both slots, checks magic, version, header length, payload length against the file's
// size and the CRC, and returns the valid one with the higher generation, with every rejected file
// and why. A file that passes every check but was not written by a save would need a forged
// CRC-32C: random damage passes with probability 2⁻³², and truncation never does (the length
// is checked against the header).
//
// One writer: a store assumes no other store (in this or another process) uses the same directory
// and name at the same time; `load()` deletes NAME.tmp.
//
// System calls go through the funnel (`Syscall`), so tests force EIO, ENOSPC or EINTR into any
// step. EINTR policy: read, write and fsync retry (each is restartable: a short write continues
// where it stopped, fsync of the same descriptor again); open, rename, unlink, mkdir do not
// (they do not block on local file systems). The funnel's file calls are at the end of this file
// (`extension Syscall`); Syscall.swift only lists their fault-injection operations.

import CTaktPlatform
import Glibc
import TaktProtocol

/// One committed checkpoint: the generation and the payload saved with it.
public struct Checkpoint: Hashable, Sendable {
    public var generation: UInt64
    public var payload: [UInt8]

    public init(generation: UInt64, payload: [UInt8]) {
        self.generation = generation
        self.payload = payload
    }
}

/// Why a checkpoint file was not used.
public enum CheckpointDefect: Hashable, Sendable, CustomStringConvertible {
    /// The file has no bytes (created, never written: a torn write or a zeroed-out file).
    case empty
    /// Shorter than the 32-byte header.
    case truncatedHeader(bytes: Int)
    /// The first 8 bytes are not "TAKTCKPT": not a checkpoint, or its first block was lost.
    case badMagic
    /// A format version this code does not read.
    case unsupportedVersion(UInt32)
    /// The header's length field is not 32.
    case badHeaderLength(UInt32)
    /// The payload length in the header exceeds the store's capacity (a larger store wrote it, or
    /// the field is damaged).
    case payloadOverCapacity(length: UInt32, capacity: Int)
    /// The file ends before the payload the header announces: a torn write.
    case truncated(expectedBytes: Int, actualBytes: Int)
    /// The file continues after the payload the header announces.
    case trailingBytes(expectedBytes: Int)
    /// Header and payload are complete but the CRC-32C does not match: corrupted bytes.
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// The file exists but could not be opened or read.
    case unreadable(Errno)
    /// A temporary file left by an interrupted save (never committed); `removalError` is nil when
    /// it was removed.
    case leftoverTemporary(removalError: Errno?)

    public var description: String {
        switch self {
        case .empty: return "empty file"
        case .truncatedHeader(let bytes): return "truncated header (\(bytes) of \(CheckpointFormat.headerBytes) bytes)"
        case .badMagic: return "bad magic (not a Takt checkpoint)"
        case .unsupportedVersion(let version): return "unsupported format version \(version) (this code reads \(CheckpointFormat.version))"
        case .badHeaderLength(let length): return "bad header length \(length) (expected \(CheckpointFormat.headerBytes))"
        case .payloadOverCapacity(let length, let capacity): return "payload of \(length) bytes exceeds the store's capacity of \(capacity)"
        case .truncated(let expected, let actual): return "truncated (\(actual) of \(expected) bytes): a torn write"
        case .trailingBytes(let expected): return "longer than the \(expected) bytes its header announces"
        case .checksumMismatch(let stored, let computed):
            return "CRC-32C mismatch (stored \(hex(stored)), computed \(hex(computed)))"
        case .unreadable(let errno): return "unreadable: \(errno)"
        case .leftoverTemporary(nil): return "leftover temporary file of an interrupted save (removed)"
        case .leftoverTemporary(let error?): return "leftover temporary file of an interrupted save (not removed: \(error))"
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// A file of the store that `load()` did not use, and why.
public struct CheckpointRejection: Hashable, Sendable, CustomStringConvertible {
    /// The file's name inside the store's directory ("NAME.a", "NAME.b" or "NAME.tmp").
    public var file: String
    public var defect: CheckpointDefect

    public var description: String { "\(file): \(defect)" }
}

/// What `load()` found: the newest valid checkpoint (nil when there is none) and every file it
/// rejected. A missing slot file is not a rejection.
public struct CheckpointLoadReport: Hashable, Sendable {
    public var newest: Checkpoint?
    public var rejected: [CheckpointRejection]
}

/// The on-disk format's constants.
package enum CheckpointFormat {
    /// "TAKTCKPT" read as a little-endian UInt64.
    package static let magic: UInt64 = 0x5450_4B43_544B_4154
    package static let version: UInt32 = 1
    package static let headerBytes = 32
    /// The largest payload a store accepts: 16 MiB.
    package static let maximumPayloadBytes = 16 << 20
    /// Where the CRC-32C sits; it covers [0, checksumOffset) and then the payload.
    static let checksumOffset = 28

    /// Writes a header for `payloadBytes` bytes already at `file[32...]` and seals it with the
    /// CRC-32C over the header and payload. `version` and `headerLength` are parameters so tests
    /// can write well-sealed files of other versions. PRECONDITION: `file.count >= 32 + payloadBytes`.
    package static func encode(into file: UnsafeMutableRawBufferPointer, generation: UInt64, payloadBytes: Int,
                               version: UInt32 = CheckpointFormat.version,
                               headerLength: UInt32 = UInt32(CheckpointFormat.headerBytes)) {
        precondition(payloadBytes >= 0 && file.count >= headerBytes + payloadBytes, "the buffer holds the header and payload")
        file.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt64.self)
        file.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt32.self)
        file.storeBytes(of: headerLength.littleEndian, toByteOffset: 12, as: UInt32.self)
        file.storeBytes(of: generation.littleEndian, toByteOffset: 16, as: UInt64.self)
        file.storeBytes(of: UInt32(payloadBytes).littleEndian, toByteOffset: 24, as: UInt32.self)
        let crc = checksum(UnsafeRawBufferPointer(file), payloadBytes: payloadBytes)
        file.storeBytes(of: crc.littleEndian, toByteOffset: checksumOffset, as: UInt32.self)
    }

    /// CRC-32C over `file[0..<28]` then `file[32..<32 + payloadBytes]`.
    static func checksum(_ file: UnsafeRawBufferPointer, payloadBytes: Int) -> UInt32 {
        var crc = CRC32C()
        crc.update(UnsafeRawBufferPointer(rebasing: file[0..<checksumOffset]))
        crc.update(UnsafeRawBufferPointer(rebasing: file[headerBytes..<headerBytes + payloadBytes]))
        return crc.value
    }
}

/// Test hook: the step after which `save` stops, as if the process had been killed there
/// (the open temporary file is closed, which changes nothing on disk).
package enum CheckpointSaveStep: Hashable, Sendable {
    /// NAME.tmp created (empty).
    case openedTemporary
    /// The first `bytes` bytes of the file written (0 ≤ bytes < the file's length: a torn write).
    case wroteTemporaryPartially(bytes: Int)
    /// The whole file written, not yet synced.
    case wroteTemporary
    /// fsync(NAME.tmp) returned; not yet renamed.
    case syncedTemporary
    /// Renamed over the slot; the directory not yet synced.
    case renamed
}

/// A node's stable storage: checkpoints of up to `capacity` bytes, saved atomically and durably,
/// loaded as the newest valid generation. One store per directory and name, used from one thread
/// at a time (it is not Sendable). `save` allocates nothing.
public final class CheckpointStore {
    /// The directory, as given.
    public let directory: String
    /// The file name prefix.
    public let name: String
    /// The largest payload `save` accepts (bytes).
    public let capacity: Int
    /// The newest valid generation on disk, when known (after `load()` or a successful `save`).
    public var newestGeneration: UInt64? { newest?.generation }

    /// The directory, open (O_DIRECTORY) for *at() calls and its fsync.
    private let directoryDescriptor: Int32
    /// NUL-terminated file names, allocated once: slot A, slot B, the temporary file.
    private let slotNames: (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<CChar>)
    private let temporaryName: UnsafeMutablePointer<CChar>
    /// Header + payload of one file; reused by every save and load.
    private let buffer: UnsafeMutableRawBufferPointer
    /// Which slot (0 = A, 1 = B) holds the newest valid generation; `stateKnown` false means the
    /// files must be inspected before the next save (start-up, or a save that failed midway).
    private var newest: (slot: Int, generation: UInt64)?
    private var stateKnown = false

    /// Opens the store `name` in `directory`, creating the directory (and missing parents, each
    /// made durable by an fsync of its parent) if needed. Reads nothing yet.
    ///
    /// Throws `.invalidConfiguration` for a name that is empty, longer than 200 bytes, starts with
    /// '.', or has characters outside A–Z a–z 0–9 . _ -, and for a capacity outside
    /// 0...16 MiB; `.systemCall` when the directory cannot be created, opened (not a directory)
    /// or written (`access(W_OK)`: EACCES, EROFS).
    public init(directory: String, name: String, capacity: Int) throws(PlatformError) {
        guard !name.isEmpty, name.utf8.count <= 200, name.utf8.first != UInt8(ascii: "."),
              name.utf8.allSatisfy({ CheckpointStore.isNameByte($0) }) else {
            throw .invalidConfiguration("checkpoint name '\(name)': 1–200 characters of A–Z a–z 0–9 . _ -, not starting with '.'")
        }
        guard (0...CheckpointFormat.maximumPayloadBytes).contains(capacity) else {
            throw .invalidConfiguration("checkpoint capacity \(capacity) bytes: 0...\(CheckpointFormat.maximumPayloadBytes)")
        }
        guard !directory.isEmpty else { throw .invalidConfiguration("checkpoint directory: empty path") }
        try CheckpointStore.makeDirectories(directory)
        let fd: Int32
        do { fd = try Syscall.open(directory, flags: O_RDONLY | O_DIRECTORY) } catch {
            throw .systemCall("open(\(directory), O_DIRECTORY)", error)
        }
        do { try Syscall.checkWritable(fd) } catch {
            Syscall.close(fd)
            throw .systemCall("access(\(directory), W_OK)", error)
        }
        self.directory = directory
        self.name = name
        self.capacity = capacity
        directoryDescriptor = fd
        slotNames = (strdup(name + ".a")!, strdup(name + ".b")!)
        temporaryName = strdup(name + ".tmp")!
        buffer = .allocate(byteCount: CheckpointFormat.headerBytes + capacity, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        Syscall.close(directoryDescriptor)
        free(slotNames.0)
        free(slotNames.1)
        free(temporaryName)
        buffer.deallocate()
    }

    /// The file names inside the directory: the two slots and the temporary file.
    public var fileNames: (a: String, b: String, temporary: String) { (name + ".a", name + ".b", name + ".tmp") }

    // MARK: Save

    /// Saves `payload` as `generation`, atomically and durably: when this returns, the checkpoint
    /// survives a kill -9 and (given a disk that honours fsync) a power loss; when it throws, or
    /// the process dies inside it, `load()` returns this generation or the previous one, never
    /// anything else. The slot not holding the newest valid generation is replaced, so the one
    /// before stays as a fall-back.
    ///
    /// Throws `.invalidConfiguration` when `payload` exceeds `capacity` or `generation` is not
    /// greater than the newest valid generation on disk (inspected first if unknown), and
    /// `.systemCall` when open, write, fsync, rename or the directory's fsync fail (ENOSPC, EIO…);
    /// after an fsync error the file is not renamed (the kernel may have dropped the dirty pages).
    public func save(_ payload: UnsafeRawBufferPointer, generation: UInt64) throws(PlatformError) {
        try save(payload, generation: generation, stoppingAfter: nil)
    }

    /// `save` of an array's bytes (no copy besides the one into the store's buffer).
    public func save(_ payload: [UInt8], generation: UInt64) throws(PlatformError) {
        let result: Result<Void, PlatformError> = payload.withUnsafeBytes { bytes in
            do throws(PlatformError) { try save(bytes, generation: generation, stoppingAfter: nil) } catch { return .failure(error) }
            return .success(())
        }
        try result.get()
    }

    /// `save`, stopped after `step` as if the process had died there (test hook; nil runs it all).
    package func save(_ payload: UnsafeRawBufferPointer, generation: UInt64,
                      stoppingAfter step: CheckpointSaveStep?) throws(PlatformError) {
        guard payload.count <= capacity else {
            throw .invalidConfiguration("checkpoint payload of \(payload.count) bytes exceeds the store's capacity of \(capacity)")
        }
        if !stateKnown { _ = inspectSlots(copyingPayload: false) }
        if let newest, generation <= newest.generation {
            throw .invalidConfiguration("checkpoint generation \(generation) is not newer than the committed generation \(newest.generation)")
        }
        let slot = newest.map { 1 - $0.slot } ?? 0
        let fileBytes = CheckpointFormat.headerBytes + payload.count
        if let source = payload.baseAddress, payload.count > 0 {
            (buffer.baseAddress! + CheckpointFormat.headerBytes).copyMemory(from: source, byteCount: payload.count)
        }
        CheckpointFormat.encode(into: buffer, generation: generation, payloadBytes: payload.count)

        // From here until the directory's fsync returns, what is on disk is unknown to this store.
        stateKnown = false
        let fd: Int32
        do { fd = try Syscall.openAt(directoryDescriptor, temporaryName, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644) } catch {
            throw .systemCall("open(\(directory)/\(fileNames.temporary))", error)
        }
        if step == .openedTemporary { Syscall.close(fd); return }
        var length = fileBytes
        if case .wroteTemporaryPartially(let bytes) = step {
            precondition(bytes >= 0 && bytes < fileBytes, "a partial write is shorter than the file")
            length = bytes
        }
        do {
            try writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
        } catch {
            Syscall.close(fd)
            throw .systemCall("write(\(directory)/\(fileNames.temporary))", error)
        }
        if step == .wroteTemporary || length < fileBytes { Syscall.close(fd); return }
        do {
            try syncRetryingInterrupts(fd, directory: false)
        } catch {
            Syscall.close(fd)
            throw .systemCall("fsync(\(directory)/\(fileNames.temporary))", error)
        }
        Syscall.close(fd)
        if step == .syncedTemporary { return }
        let target = slot == 0 ? slotNames.0 : slotNames.1
        do { try Syscall.renameAt(directoryDescriptor, temporaryName, target) } catch {
            throw .systemCall("rename(\(directory)/\(fileNames.temporary) → \(slot == 0 ? fileNames.a : fileNames.b))", error)
        }
        if step == .renamed { return }
        do { try syncRetryingInterrupts(directoryDescriptor, directory: true) } catch {
            throw .systemCall("fsync(\(directory))", error)
        }
        newest = (slot, generation)
        stateKnown = true
    }

    /// Writes every byte; EINTR retried, short writes continued.
    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            do throws(Errno) {
                let written = try Syscall.write(fd, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                // write(2) returns 0 only for a zero count; treat it as an I/O error rather than loop.
                if written == 0 { throw Errno(rawValue: EIO) }
                offset += written
            } catch where error == .interrupted {
                continue  // EINTR: nothing was written; retry
            }
        }
    }

    /// fsync; EINTR retried (nothing was flushed or reported yet). Any other error is final: after
    /// EIO the kernel may have marked the pages clean, so a retry could "succeed" without the data.
    private func syncRetryingInterrupts(_ fd: Int32, directory: Bool) throws(Errno) {
        while true {
            do throws(Errno) {
                if directory { try Syscall.syncDirectory(fd) } else { try Syscall.fsync(fd) }
                return
            } catch where error == .interrupted {
                continue
            }
        }
    }

    // MARK: Load

    /// Removes a leftover temporary file, reads both slots, and returns the valid checkpoint with
    /// the higher generation (slot A on a tie, which saves never produce) and every rejected file.
    /// Never throws: an unreadable file is a rejection. Allocates (the payload copy, the report);
    /// call it at start-up.
    public func load() -> CheckpointLoadReport {
        var rejected: [CheckpointRejection] = []
        do { try Syscall.unlinkAt(directoryDescriptor, temporaryName) ; rejected.append(.init(file: fileNames.temporary, defect: .leftoverTemporary(removalError: nil))) } catch {
            if error.rawValue != ENOENT { rejected.append(.init(file: fileNames.temporary, defect: .leftoverTemporary(removalError: error))) }
        }
        let found = inspectSlots(copyingPayload: true)
        for (slot, defect) in found.defects { rejected.append(.init(file: slot == 0 ? fileNames.a : fileNames.b, defect: defect)) }
        return CheckpointLoadReport(newest: found.newest, rejected: rejected)
    }

    /// Inspects both slots; records the newest valid one (and marks the state known).
    private func inspectSlots(copyingPayload: Bool) -> (newest: Checkpoint?, defects: [(Int, CheckpointDefect)]) {
        var best: Checkpoint?
        var defects: [(Int, CheckpointDefect)] = []
        newest = nil
        for slot in 0..<2 {
            switch inspect(slot == 0 ? slotNames.0 : slotNames.1) {
            case .missing:
                break
            case .rejected(let defect):
                defects.append((slot, defect))
            case .valid(let generation, let payloadBytes):
                if let current = newest, current.generation >= generation { break }
                newest = (slot, generation)
                if copyingPayload {
                    let payload = UnsafeRawBufferPointer(rebasing: buffer[CheckpointFormat.headerBytes..<CheckpointFormat.headerBytes + payloadBytes])
                    best = Checkpoint(generation: generation, payload: Array(payload))
                }
            }
        }
        stateKnown = true
        return (best, defects)
    }

    private enum Inspection {
        case missing
        case rejected(CheckpointDefect)
        case valid(generation: UInt64, payloadBytes: Int)
    }

    /// Reads one file into the buffer and checks it.
    private func inspect(_ fileName: UnsafeMutablePointer<CChar>) -> Inspection {
        let fd: Int32
        do { fd = try Syscall.openAt(directoryDescriptor, fileName, flags: O_RDONLY, mode: 0) } catch {
            return error.rawValue == ENOENT ? .missing : .rejected(.unreadable(error))
        }
        defer { Syscall.close(fd) }
        let header = CheckpointFormat.headerBytes
        let headerRead: Int
        do { headerRead = try readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<header])) } catch {
            return .rejected(.unreadable(error))
        }
        if headerRead == 0 { return .rejected(.empty) }
        if headerRead < header { return .rejected(.truncatedHeader(bytes: headerRead)) }
        let file = UnsafeRawBufferPointer(buffer)
        guard UInt64(littleEndian: file.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) == CheckpointFormat.magic else {
            return .rejected(.badMagic)
        }
        let version = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == CheckpointFormat.version else { return .rejected(.unsupportedVersion(version)) }
        let headerLength = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard headerLength == UInt32(header) else { return .rejected(.badHeaderLength(headerLength)) }
        let generation = UInt64(littleEndian: file.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let payloadLength = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        guard Int(payloadLength) <= capacity else { return .rejected(.payloadOverCapacity(length: payloadLength, capacity: capacity)) }
        let payloadBytes = Int(payloadLength)
        let payloadRead: Int
        do { payloadRead = try readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[header..<header + payloadBytes])) } catch {
            return .rejected(.unreadable(error))
        }
        if payloadRead < payloadBytes {
            return .rejected(.truncated(expectedBytes: header + payloadBytes, actualBytes: header + payloadRead))
        }
        var extra: UInt8 = 0
        let extraRead: Int
        do { extraRead = try withUnsafeMutableBytes(of: &extra) { bytes throws(Errno) in try readFully(fd, into: bytes) } } catch {
            return .rejected(.unreadable(error))
        }
        if extraRead > 0 { return .rejected(.trailingBytes(expectedBytes: header + payloadBytes)) }
        let stored = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: CheckpointFormat.checksumOffset, as: UInt32.self))
        let computed = CheckpointFormat.checksum(file, payloadBytes: payloadBytes)
        guard stored == computed else { return .rejected(.checksumMismatch(stored: stored, computed: computed)) }
        return .valid(generation: generation, payloadBytes: payloadBytes)
    }

    /// Reads until `bytes` is full or end of file; returns how many bytes were read. EINTR retried.
    private func readFully(_ fd: Int32, into bytes: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        var offset = 0
        while offset < bytes.count {
            do throws(Errno) {
                let count = try Syscall.read(fd, UnsafeMutableRawBufferPointer(rebasing: bytes[offset...]))
                if count == 0 { break }  // end of file
                offset += count
            } catch where error == .interrupted {
                continue  // EINTR: nothing was read; retry
            }
        }
        return offset
    }

    // MARK: Directory

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): return true
        default: return false
        }
    }

    /// mkdir -p: creates the directory and any missing parents (mode 0755), each followed by an
    /// fsync of its parent, so a directory created here survives a power loss along with the
    /// checkpoints written into it. Existing directories cost one mkdir (EEXIST) and nothing else.
    private static func makeDirectories(_ path: String) throws(PlatformError) {
        let path = trimmingTrailingSlashes(path[...])
        do { try Syscall.makeDirectory(path, mode: 0o755) } catch {
            switch error.rawValue {
            case EEXIST:
                return  // a directory, or a file that open(O_DIRECTORY) will report
            case ENOENT where parent(of: path) != path:
                try makeDirectories(parent(of: path))
                do { try Syscall.makeDirectory(path, mode: 0o755) } catch {
                    if error.rawValue == EEXIST { return }  // created meanwhile by someone else
                    throw .systemCall("mkdir(\(path))", error)
                }
            default:
                throw .systemCall("mkdir(\(path))", error)
            }
        }
        let parent = parent(of: path)
        let parentDescriptor: Int32
        do { parentDescriptor = try Syscall.open(parent, flags: O_RDONLY | O_DIRECTORY) } catch {
            throw .systemCall("open(\(parent), O_DIRECTORY)", error)
        }
        defer { Syscall.close(parentDescriptor) }
        do { try Syscall.syncDirectory(parentDescriptor) } catch { throw .systemCall("fsync(\(parent))", error) }
    }

    /// "a/b//" → "a/b"; "/" stays "/".
    private static func trimmingTrailingSlashes(_ path: Substring) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return String(path)
    }

    /// The directory holding `path` (without trailing slashes): "a/b" → "a", "a" → ".", "/a" → "/",
    /// "/" → "/", "." → ".".
    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return trimmingTrailingSlashes(path[..<slash])
    }
}

// MARK: The funnel's file calls

extension Syscall {
    /// openat(directory, name, flags | O_CLOEXEC, mode).
    static func openAt(_ directory: Int32, _ name: UnsafePointer<CChar>, flags: Int32, mode: mode_t) throws(Errno) -> Int32 {
        if let error = injected(.open) { throw error }
        let fd = Glibc.openat(directory, name, flags | O_CLOEXEC, mode)
        if fd < 0 { throw Errno(rawValue: errno) }
        return fd
    }

    /// read(fd, bytes): how many bytes were read (0 at end of file). EINTR is the caller's to retry.
    static func read(_ fd: Int32, _ bytes: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        if let error = injected(.read) { throw error }
        let count = Glibc.read(fd, bytes.baseAddress, bytes.count)
        if count < 0 { throw Errno(rawValue: errno) }
        return count
    }

    /// fsync(fd): the file's data and metadata (for a directory: its entries) on stable storage.
    static func fsync(_ fd: Int32) throws(Errno) {
        if let error = injected(.fsync) { throw error }
        if Glibc.fsync(fd) != 0 { throw Errno(rawValue: errno) }
    }

    /// fsync(fd) of a directory: its entries (a rename, a new file or directory) on stable storage.
    /// A separate faultable operation, so tests can fail it alone.
    static func syncDirectory(_ fd: Int32) throws(Errno) {
        if let error = injected(.syncDirectory) { throw error }
        if Glibc.fsync(fd) != 0 { throw Errno(rawValue: errno) }
    }

    /// renameat(directory, from, directory, to): atomically replaces `to`.
    static func renameAt(_ directory: Int32, _ from: UnsafePointer<CChar>, _ to: UnsafePointer<CChar>) throws(Errno) {
        if let error = injected(.rename) { throw error }
        if Glibc.renameat(directory, from, directory, to) != 0 { throw Errno(rawValue: errno) }
    }

    /// unlinkat(directory, name, 0).
    static func unlinkAt(_ directory: Int32, _ name: UnsafePointer<CChar>) throws(Errno) {
        if let error = injected(.unlink) { throw error }
        if Glibc.unlinkat(directory, name, 0) != 0 { throw Errno(rawValue: errno) }
    }

    /// mkdir(path, mode).
    static func makeDirectory(_ path: String, mode: mode_t) throws(Errno) {
        if let error = injected(.makeDirectory) { throw error }
        if Glibc.mkdir(path, mode) != 0 { throw Errno(rawValue: errno) }
    }

    /// faccessat(directory, ".", W_OK | X_OK, 0): whether files can be created in it (EACCES,
    /// EROFS otherwise). Root passes any permission bits, not a read-only mount.
    static func checkWritable(_ directory: Int32) throws(Errno) {
        if let error = injected(.access) { throw error }
        if Glibc.faccessat(directory, ".", W_OK | X_OK, 0) != 0 { throw Errno(rawValue: errno) }
    }
}
