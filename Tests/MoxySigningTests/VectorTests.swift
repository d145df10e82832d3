// SPDX-License-Identifier: Apache-2.0

import MoxySigning
import MoxyTestSupport
import Testing

@Suite struct VectorTests {
    @Test func documentHasAtLeastSixVectors() throws {
        #expect(try URLVector.load().count >= 6)
    }

    @Test func signingProducesTheDocumentedPaths() throws {
        for vector in try URLVector.load() {
            let options = SignOptions(
                keyID: vector.keyID == "default" ? nil : vector.keyID,
                expires: vector.expires,
                fileExtension: vector.ext.isEmpty ? nil : vector.ext
            )
            #expect(try makeSigner(vector).sign(vector.url, options: options) == vector.path, "\(vector.url)")
        }
    }

    @Test func documentedPathsVerifyBackToTheirURLs() throws {
        for vector in try URLVector.load() {
            let target = try makeSigner(vector).verify(path: vector.path, now: 1_767_225_599)
            #expect(target.url == vector.url)
            #expect(target.keyID == vector.keyID)
        }
    }

    @Test func expiredVectorsAreRefusedFromTheExpirySecond() throws {
        for vector in try URLVector.load() where vector.expires != nil {
            #expect(throws: SigningError(.expired, "")) { try makeSigner(vector).verify(path: vector.path, now: 1_767_225_600) }
        }
    }

    func makeSigner(_ vector: URLVector) throws -> URLSigner {
        var keys = [try SigningKey(id: vector.keyID, secret: vector.secret)]
        if vector.keyID != "default" { keys.append(try SigningKey(id: "default", secret: "unrelated-default")) }
        return try URLSigner(keys: keys, defaultKeyID: "default")
    }
}
