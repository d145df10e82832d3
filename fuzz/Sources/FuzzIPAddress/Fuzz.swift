// SPDX-License-Identifier: Apache-2.0

import FuzzSupport
import MoxyServer

@_cdecl("FuzzIPAddress_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in
        let value = text(data, size)
        if let address = IPAddress(parsing: value) {
            // The normalised spelling parses to the same address and class.
            let normal = address.description
            check(IPAddress(parsing: normal) == address, "normalised spelling round trip: \(normal)")
            check(AddressClass.classify(address) == AddressClass.classify(IPAddress(parsing: normal)!), "stable class")
        }
        _ = AddressClass.classify(host: value)
        _ = IPNetwork(value)
        _ = TargetURL(value)
        return 0
    }
}
