package scenario

import "github.com/drvsim/drvsim/sim"

// Scenarios returns the power-management scenarios, in a fixed order,
// explored exhaustively within two preemptions per schedule by default.
// Package scenarios registers them; `drvsim explore NAME` runs them.
func Scenarios() []sim.Scenario {
	return []sim.Scenario{
		declare("pm-runtime-resume-vs-unplug", "USB core",
			"A driver's I/O autoresumes its suspended USB device (usb_autopm_get_interface) while the cable is "+
				"pulled; the I/O is done before the disconnect, refused by the driver after it, or refused "+
				"because the resume found the device gone (-ENODEV, then -EBUSY): never I/O to a gone device.",
			"", RuntimeResumeVsUnplug, IOThenUnplug, IOAutoresumeFailed, IORefused),
		declare("pm-autosuspend-vs-disconnect", "USB core",
			"The autosuspend timer fires as the device is disconnected; usb_disconnect's pm_runtime_barrier "+
				"and device_del's pm_runtime_remove cancel what is pending and wait for what runs: the "+
				"device is suspended first or not at all, and released either way.",
			"", AutosuspendVsDisconnect, SuspendedThenGone, TimerFoundNothing),
		declare("pm-resume-vs-unplug", "PM core and USB core",
			"A system resume races the unplug of a USB device pulled while the machine slept; the "+
				"device leaves the PM core's list and the resume skips it, or finds it gone midway, with no "+
				"error and no callback on a gone device.",
			"", ResumeVsUnplug, UnpluggedAsleep, UnpluggedDuringResume, ResumedThenUnplugged),
		declare("pm-suspend-vs-async-probe", "PM core",
			"A system suspend and resume races the hotplug of a device whose driver probes asynchronously; "+
				"dpm_prepare waits for probes in flight and blocks new ones until dpm_complete, so the probe "+
				"runs before the sleep, or is deferred and runs after it, never in between.",
			"", SuspendVsAsyncProbe, ProbedThenSlept, ProbeHeldOff, AddedAfterSleep),
		declare("pm-ioctl-vs-runtime-suspend", "PM core",
			"An ioctl reads a register while the device autosuspends (runtime_suspend unmaps the registers); "+
				"the ioctl holds the device with pm_runtime_get_sync, which waits out a suspend in progress "+
				"and resumes the device: the read always finds it powered.",
			"", IoctlVsRuntimeSuspend(true), IoctlOnActive, IoctlResumed),
		declare("pm-ioctl-no-get-vs-runtime-suspend", "PM core, broken driver",
			"The same race with a driver whose ioctl does not hold the device: a read after the "+
				"autosuspend touches unmapped registers, a use-after-free.",
			sim.BugUseAfterFree, IoctlVsRuntimeSuspend(false)),
	}
}
