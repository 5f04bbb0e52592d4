// Package kernel is drvsim's kernel library for driver authors: the
// primitives a Linux driver uses, with the kernel's names, running in one
// machine's environment (package env). Each takes that environment from
// the Host it is created with (a System, a device, a subsystem, a
// simulated run), so it traces into the machine's log, is a schedule point
// under the simulator and is checked by lockdep, with nothing to wire:
//
//   - Mutex (mutex_lock), SpinLock (spin_lock, spin_lock_irqsave,
//     spin_lock_bh, spin_trylock), WaitQueue (wait_event, wake_up_all)
//     and Completion (wait_for_completion, complete, complete_all);
//     CondResched and Msleep.
//   - Kref (kref_init, kref_get, kref_get_unless_zero, kref_put).
//   - Workqueues: Work and DelayedWork (INIT_WORK, INIT_DELAYED_WORK),
//     AllocWorkqueue and AllocOrderedWorkqueue, SystemWQ, ScheduleWork,
//     ScheduleDelayedWork, flush, cancel and their devm_ forms.
//   - Timer (timer_setup, mod_timer, timer_delete_sync) on the machine's
//     virtual clock.
//   - Interrupts: RequestIRQ, RequestThreadedIRQ, FreeIRQ, SynchronizeIRQ,
//     DisableIRQ, EnableIRQ, the devm_ forms, and RaiseIRQ for the
//     simulated hardware.
//   - dev_printk: DevErr, DevWarn, DevNotice, DevInfo, DevDbg.
//
// Holding a spinlock, a timer callback and a hard interrupt handler are
// atomic context: a sleeping primitive called there draws the kernel's
// "BUG: sleeping function called from invalid context", and lockdep checks
// that a lock taken in interrupt context is taken with interrupts off
// everywhere else. In the plain environment the primitives wait on real
// goroutines and workers and interrupt threads are goroutines; under the
// simulator they wait through its scheduler and workers, timers, hard
// interrupts and interrupt threads are tasks, so the explorer interleaves
// them with everything else and a deadlock is reported with its wait-for
// chain instead of hanging. A machine's kernel state (its system_wq, its
// interrupt controller) lives in its environment and is shut down by
// drvsim.System.Close.
package kernel
