// SPDX-License-Identifier: Apache-2.0

import MoxyCLI

await MoxyCommand.runFromCommandLine()
