package pm

import "github.com/drvsim/drvsim/trace"

// Trace kinds of the PM core.
const (
	// KindRuntime is the kind of runtime PM events: rpm_idle,
	// rpm_suspend, rpm_resume, rpm_callback, rpm_return_int,
	// pm_runtime_work, pm_suspend_timer_fn and the usage-count helpers
	// (pm_runtime_get_sync, pm_runtime_put, ...).
	KindRuntime trace.Kind = "rpm"
	// KindSleep is the kind of system sleep events: dpm_prepare,
	// dpm_suspend, dpm_suspend_late, dpm_suspend_noirq, their resume
	// counterparts, dpm_complete and the per-device callbacks
	// (device_prepare, device_suspend, ...).
	KindSleep trace.Kind = "dpm"
)
