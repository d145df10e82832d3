// SPDX-License-Identifier: Apache-2.0

import MoxyCLI

// Before any thread exists, so that no SIGTERM sent while Moxy starts is lost (see ShutdownSignals).
if ShutdownSignals.isServe(CommandLine.arguments) { ShutdownSignals.install() }
await MoxyCommand.runFromCommandLine()
