// SPDX-License-Identifier: Apache-2.0

/// The commit this binary was built from; `scripts/stamp-build.sh` rewrites the value before a
/// release build (a checkout keeps `unknown`, so the file never changes in git).
enum MoxyBuildCommit {
    static let value = "unknown"
}
