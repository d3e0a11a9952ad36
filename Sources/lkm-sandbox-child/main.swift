// lkm-sandbox-child: the sandbox's child process (see LKMSandbox's SandboxChild). Not meant to
// be run by hand: LKMSandbox.Sandbox spawns it with its descriptors in place.
import CSandboxChild
import LKMSandboxChild

unsafe SandboxChild.main(arguments: CommandLine.arguments) { unsafe lkmsb_set_oom_word($0) }
