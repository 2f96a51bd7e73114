// Where the command line writes: standard output and error in the real tool, strings in tests.

#if canImport(Glibc)
import Glibc
#endif

public protocol TextSink: AnyObject {
    func write(_ text: String)
}

/// Writes to a file descriptor, unbuffered (each call is one write loop).
public final class FileDescriptorSink: TextSink {
    let descriptor: Int32
    public init(descriptor: Int32) { self.descriptor = descriptor }

    public func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                #if canImport(Glibc)
                let n = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }  // EINTR: retry; anything else: the reader is gone
                    return
                }
                offset += n
                #else
                return
                #endif
            }
        }
    }
}

public final class StringSink: TextSink {
    public private(set) var text = ""
    public init() {}
    public func write(_ text: String) { self.text += text }
}

public struct Console {
    public var out: TextSink
    public var err: TextSink
    /// Whether progress lines (rewritten with '\r') may be shown on stderr.
    public var interactive: Bool

    public init(out: TextSink, err: TextSink, interactive: Bool) {
        self.out = out
        self.err = err
        self.interactive = interactive
    }

    public static func standard() -> Console {
        #if canImport(Glibc)
        return Console(out: FileDescriptorSink(descriptor: 1), err: FileDescriptorSink(descriptor: 2), interactive: isatty(2) == 1)
        #else
        return Console(out: FileDescriptorSink(descriptor: 1), err: FileDescriptorSink(descriptor: 2), interactive: false)
        #endif
    }
}
