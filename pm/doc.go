// Package pm is the power-management core of the driver model
// (drivers/base/power): system sleep, which suspends every device of the
// machine in an order the kernel guarantees and resumes it in reverse, and
// runtime PM, which suspends one idle device while the rest of the
// machine runs.
//
// # System sleep (main.c)
//
// Suspend is the kernel's suspend_devices_and_enter up to the point where
// the machine sleeps: dpm_prepare (parents before children, probing
// blocked), dpm_suspend, dpm_suspend_late and dpm_suspend_noirq (children
// before parents, consumers of device links before their suppliers).
// Resume runs dpm_resume_noirq, dpm_resume_early, dpm_resume and
// dpm_complete, in the opposite orders, and unblocks probing. A failing
// callback aborts the transition: the devices already suspended are
// resumed, in order. Devices marked with EnableAsyncSuspend have their
// callbacks run in tasks of their own under the simulator, each waiting
// for its children (suspend) or its parent (resume) first.
//
// # Runtime PM (runtime.c)
//
// Each device has a usage count and a count of active children; while
// either is above zero the device stays active. GetSync resumes the
// device (its parent first) and holds it; Put drops the hold and lets the
// PM core suspend the device when nothing holds it any more, after an
// autosuspend delay on the machine's virtual clock if the driver asked
// for one (UseAutosuspend, PutAutosuspend). Runtime PM starts disabled;
// a driver enables it (Enable, DevmEnable). The driver core uses it
// around probe and unbind (bus.PowerHooks): the parent is resumed for the
// probe, the device resumed for its unbind, and runtime PM reset after it.
//
// Requests that the kernel queues on pm_wq (the ASYNC ones: Put, the idle
// check after a resume, the autosuspend timer's suspend) run on a
// workqueue of the kernel library under the simulator, in a task of their
// own that the explorer interleaves with everything else. In the plain
// environment they run when the outermost PM call in progress returns, or
// at Flush, so that a trace is the same on every run.
//
// Attach installs the PM core on a machine; drvsim.NewSystem does it for
// every System. The trace kinds are KindRuntime ("rpm") and KindSleep
// ("dpm").
package pm
