// Package kernel is drvsim's kernel library for driver authors: the
// primitives a Linux driver uses, with the kernel's names, running in one
// machine's environment (package env). Each takes that environment from
// the Host it is created with (a System, a device, a subsystem, a
// simulated run), so it traces into the machine's log, is a schedule point
// under the simulator and is checked by lockdep, with nothing to wire:
//
//   - Mutex (mutex_lock), WaitQueue (wait_event, wake_up_all) and
//     Completion (wait_for_completion, complete, complete_all).
//
// In the plain environment the primitives wait on real goroutines; under
// the simulator they wait through its scheduler, so a deadlock is reported
// with its wait-for chain instead of hanging.
package kernel
