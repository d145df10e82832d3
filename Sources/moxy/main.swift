// SPDX-License-Identifier: Apache-2.0

import MoxyCLI

// Before any thread exists, so that no SIGTERM sent while Moxy starts is lost (see ServeSignals).
if ServeSignals.isServe(CommandLine.arguments) { ServeSignals.install() }
await MoxyCommand.runFromCommandLine()
