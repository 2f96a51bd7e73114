// Fixed layouts: how a value becomes the bytes of a state message and back.
//
// Every value that crosses the bus has one byte layout, the same on every node: a fixed number of
// bytes (`byteCount`, known from the type, so a message's size in the schedule is checked once and
// buffers are sized at start-up), little-endian, no padding, no pointers. `store` cannot fail (a
// value always has its encoding); `init?(loading:)` is the receiving side and treats the bytes as
// input from outside: it returns nil for a buffer that is too short or bytes that are no valid
// value, and never traps. Neither allocates.
//
// The layouts of the standard conformances:
//   Int64, UInt64, Double, Interval, ClusterInstant   8 bytes
//   Int32, UInt32, Float                               4 bytes
//   Int16, UInt16                                      2 bytes
//   Int8, UInt8, Bool                                  1 byte
// Integers are two's complement, little-endian; every bit pattern is a value.
// Bool is 0 (false) or 1 (true); any other byte is not a Bool (nil), so a flipped high bit is
// detected rather than read as `true`.
// Double and Float are the IEEE 754 bit pattern, little-endian, stored and loaded exactly: every
// bit pattern is a value, NaNs included (sign and payload preserved), so `load(store(x))` is
// bitwise `x` for every x. Why NaN is allowed here: the layout is a transport, and rejecting NaN
// would turn only some corrupted patterns into "no value" while passing others; whether NaN (or
// infinity, or 1e300) is a plausible reading is the application's check, and the tolerance voter
// treats non-finite votes as agreeing with nothing (Voting.swift).
// Interval and ClusterInstant are their nanoseconds as Int64; every Int64 is a value.
// LocalInstant deliberately has no layout: a reading of one node's oscillator means nothing at
// another node, so it never crosses the bus (only cluster time does).

import TaktTime

/// A type with one fixed-size, little-endian byte layout: the values that state messages carry.
///
/// Conforming types promise: `store(to:)` writes exactly `byteCount` bytes and nothing else,
/// depends only on the value (no padding bytes left unwritten, no addresses), and
/// `init?(loading:)` of those bytes gives back a value that stores the same bytes. `byteCount` is a
/// constant of the type. Exact voting relies on this: two values agree when their stored bytes are
/// equal (`isBitwiseEqual(to:)`).
public protocol FixedLayout {
    /// The number of bytes the layout takes. A constant of the type, ≥ 0.
    static var byteCount: Int { get }
    /// Writes exactly byteCount bytes, little-endian, at the start of `buffer` (buffer.count >= byteCount; precondition).
    func store(to buffer: UnsafeMutableRawBufferPointer)
    /// nil when buffer.count < byteCount or the bytes are not a valid value. Never traps.
    init?(loading buffer: UnsafeRawBufferPointer)
}

extension FixedLayout {
    /// Whether `self` and `other` store the same bytes: exact (bitwise) equality of the layouts.
    ///
    /// This is the agreement test of exact voting: for floating-point values it differs from `==`
    /// (+0.0 and −0.0 differ; a NaN equals a NaN with the same bits), which is what replica
    /// determinism means — replicas with the same inputs produce the same bits.
    /// Allocates nothing when `2 · byteCount` ≤ 1,024 bytes (a stack scratch buffer); larger
    /// layouts may use the heap for the scratch buffer.
    public func isBitwiseEqual(to other: Self) -> Bool {
        let count = Self.byteCount
        guard count > 0 else { return true }
        return withUnsafeTemporaryAllocation(byteCount: 2 * count, alignment: 8) { scratch in
            // Zeroed first, so a layout that (against its contract) skips a byte compares equal
            // on that byte instead of comparing garbage.
            scratch.initializeMemory(as: UInt8.self, repeating: 0)
            let first = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count])
            let second = UnsafeMutableRawBufferPointer(rebasing: scratch[count..<(2 * count)])
            store(to: first)
            other.store(to: second)
            for i in 0..<count where first[i] != second[i] { return false }
            return true
        }
    }
}

/// Traps unless `buffer` holds `byteCount` bytes: storing into a short buffer is a programmer
/// error (buffers are sized from the schedule at start-up).
@inline(__always)
func requireRoom(in buffer: UnsafeMutableRawBufferPointer, for byteCount: Int, _ type: Any.Type) {
    precondition(buffer.count >= byteCount, "storing \(type) needs \(byteCount) bytes, buffer has \(buffer.count)")
}

// MARK: Integers (two's complement, little-endian; every bit pattern is a value)

/// The layout of every fixed-width integer: its `bitWidth / 8` bytes, little-endian.
public protocol LittleEndianIntegerLayout: FixedLayout, FixedWidthInteger {}

extension LittleEndianIntegerLayout {
    public static var byteCount: Int { MemoryLayout<Self>.size }
    public func store(to buffer: UnsafeMutableRawBufferPointer) {
        requireRoom(in: buffer, for: Self.byteCount, Self.self)
        buffer.storeBytes(of: littleEndian, as: Self.self)
    }
    public init?(loading buffer: UnsafeRawBufferPointer) {
        guard buffer.count >= Self.byteCount else { return nil }
        self.init(littleEndian: buffer.loadUnaligned(as: Self.self))
    }
}

extension UInt64: LittleEndianIntegerLayout {}
extension Int64: LittleEndianIntegerLayout {}
extension UInt32: LittleEndianIntegerLayout {}
extension Int32: LittleEndianIntegerLayout {}
extension UInt16: LittleEndianIntegerLayout {}
extension Int16: LittleEndianIntegerLayout {}
extension UInt8: LittleEndianIntegerLayout {}
extension Int8: LittleEndianIntegerLayout {}

// MARK: Bool (one byte, 0 or 1; anything else is not a Bool)

extension Bool: FixedLayout {
    public static var byteCount: Int { 1 }
    public func store(to buffer: UnsafeMutableRawBufferPointer) {
        requireRoom(in: buffer, for: 1, Bool.self)
        buffer[0] = self ? 1 : 0
    }
    /// nil for a short buffer or a byte other than 0 and 1.
    public init?(loading buffer: UnsafeRawBufferPointer) {
        guard buffer.count >= 1 else { return nil }
        switch buffer[0] {
        case 0: self = false
        case 1: self = true
        default: return nil
        }
    }
}

// MARK: Floating point (IEEE 754 bit pattern, exact; NaN allowed, payload preserved)

extension Double: FixedLayout {
    public static var byteCount: Int { 8 }
    /// Stores `bitPattern`: exact for every value, NaNs included.
    public func store(to buffer: UnsafeMutableRawBufferPointer) {
        requireRoom(in: buffer, for: 8, Double.self)
        buffer.storeBytes(of: bitPattern.littleEndian, as: UInt64.self)
    }
    /// Every 8 bytes are a Double (possibly NaN or infinite); nil only for a short buffer.
    public init?(loading buffer: UnsafeRawBufferPointer) {
        guard buffer.count >= 8 else { return nil }
        self.init(bitPattern: UInt64(littleEndian: buffer.loadUnaligned(as: UInt64.self)))
    }
}

extension Float: FixedLayout {
    public static var byteCount: Int { 4 }
    /// Stores `bitPattern`: exact for every value, NaNs included.
    public func store(to buffer: UnsafeMutableRawBufferPointer) {
        requireRoom(in: buffer, for: 4, Float.self)
        buffer.storeBytes(of: bitPattern.littleEndian, as: UInt32.self)
    }
    /// Every 4 bytes are a Float (possibly NaN or infinite); nil only for a short buffer.
    public init?(loading buffer: UnsafeRawBufferPointer) {
        guard buffer.count >= 4 else { return nil }
        self.init(bitPattern: UInt32(littleEndian: buffer.loadUnaligned(as: UInt32.self)))
    }
}

// MARK: Time (integer nanoseconds as Int64; cluster time only)

extension Interval: FixedLayout {
    public static var byteCount: Int { 8 }
    /// Stores `nanoseconds` as a little-endian Int64.
    public func store(to buffer: UnsafeMutableRawBufferPointer) {
        nanoseconds.store(to: buffer)
    }
    /// Every Int64 is an Interval; nil only for a short buffer.
    public init?(loading buffer: UnsafeRawBufferPointer) {
        guard let nanoseconds = Int64(loading: buffer) else { return nil }
        self.init(nanoseconds: nanoseconds)
    }
}

extension ClusterInstant: FixedLayout {
    public static var byteCount: Int { 8 }
    /// Stores `nanoseconds` (since the cluster epoch) as a little-endian Int64.
    public func store(to buffer: UnsafeMutableRawBufferPointer) {
        nanoseconds.store(to: buffer)
    }
    /// Every Int64 is a ClusterInstant; nil only for a short buffer.
    public init?(loading buffer: UnsafeRawBufferPointer) {
        guard let nanoseconds = Int64(loading: buffer) else { return nil }
        self.init(nanoseconds: nanoseconds)
    }
}
