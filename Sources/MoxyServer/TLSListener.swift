// SPDX-License-Identifier: Apache-2.0

import NIOConcurrencyHelpers
import NIOSSL

/// Moxy's own TLS listener (`tls.listen`, `tls.cert`, `tls.key`): HTTPS for a CDN that connects
/// to its origin over TLS, or for browsers directly, beside (or instead of) the plain listener.
public struct TLSListenerConfiguration: Sendable, Equatable {
    /// The address to listen on.
    public var host: String
    /// The port (0: any free one).
    public var port: Int
    /// The certificate file: PEM, the server's certificate first, then its chain.
    public var certificatePath: String
    /// The private key file (PEM).
    public var keyPath: String

    /// Creates the settings.
    public init(host: String, port: Int, certificatePath: String, keyPath: String) {
        self.host = host
        self.port = port
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// Why a certificate and key cannot serve.
public struct TLSCertificateError: Error, Sendable, CustomStringConvertible {
    /// Stable code: `tls-certificate`.
    public static let code = "tls-certificate"
    /// What is wrong, naming the file.
    public let description: String
}

/// The TLS context new connections get. A reload loads the files into a new context and swaps it
/// in; connections already open keep the one they started with, so none is dropped, and a
/// certificate that does not load leaves the old one serving.
final class TLSContextBox: Sendable {
    private let current: NIOLockedValueBox<NIOSSLContext>
    /// The application protocols offered (ALPN).
    static let protocols = ["h2", "http/1.1"]

    /// Loads the certificate and key.
    /// - Throws: ``TLSCertificateError`` with the reason.
    init(_ configuration: TLSListenerConfiguration) throws(TLSCertificateError) {
        current = NIOLockedValueBox(try Self.context(configuration))
    }

    /// The context for a connection accepted now.
    var context: NIOSSLContext { current.withLockedValue { $0 } }

    /// Loads the files again and, when they are good, serves them to new connections.
    /// - Throws: ``TLSCertificateError``; the old context stays.
    func reload(_ configuration: TLSListenerConfiguration) throws(TLSCertificateError) {
        let context = try Self.context(configuration)
        current.withLockedValue { $0 = context }
    }

    /// A server context for the files: TLS 1.2 and 1.3 only, the chain as given.
    static func context(_ configuration: TLSListenerConfiguration) throws(TLSCertificateError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(configuration.certificatePath)
        } catch {
            throw TLSCertificateError(description: "tls.cert \(configuration.certificatePath): not a PEM certificate file (\(error))")
        }
        guard !chain.isEmpty else {
            throw TLSCertificateError(description: "tls.cert \(configuration.certificatePath): no certificate in the file")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: configuration.keyPath, format: .pem)
        } catch {
            throw TLSCertificateError(description: "tls.key \(configuration.keyPath): not a PEM private key file (\(error))")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.maximumTLSVersion = .tlsv13
        tls.applicationProtocols = protocols
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw TLSCertificateError(description: "tls.cert and tls.key do not make a TLS context (does the key match the certificate?): \(error)")
        }
    }
}
