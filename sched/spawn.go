package sched

// Spawner is implemented by a Scheduler that can start new simulated tasks
// on behalf of a component: the kernel's kthread_run, and the kworker that
// runs a function queued with async_schedule / queue_work. A component that
// would otherwise start a goroutine (the driver core's async-probe worker)
// asks its Scheduler for this interface, so that the work runs as a task the
// scheduler sees, interleaves with the others and replays exactly.
//
// sim.Sim implements it. A Scheduler without it (or a Spawn that returns
// false) leaves the component to its goroutine.
type Spawner interface {
	// Spawn starts fn as a new task named name (made unique by the
	// scheduler) and reports whether it did. It returns false, starting
	// nothing, when the caller cannot start a task now: no run in progress
	// any more, or the caller is neither a task nor the run's setup code;
	// the component then runs fn some other way.
	//
	// A task started by setup code begins with the run; one started by a
	// task is runnable at once, and the start is a schedule point. The run
	// does not end before the task does. If the run ends before the task
	// ever ran (a failed run), fn is never called and abandon, when
	// non-nil, is called once instead, after the run's tasks have unwound
	// and with no task running, so the component can drop what the task
	// held (a reference, a pending count). A task that started and is
	// unwound by a failed run runs its deferred calls instead.
	Spawn(name string, fn func(), abandon func()) bool
}
