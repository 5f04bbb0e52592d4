package pm

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim/device"
)

// The runtime PM API of include/linux/pm_runtime.h. Every function takes
// the device it acts on; a device of a machine without a PM core
// (Attach), or not yet initialized, gives ErrInvalid. The synchronous
// ones may sleep: they must not be called in atomic context (the
// kernel's might_sleep report otherwise).

// lookup returns dev's dev_pm_info and machine.
func lookup(dev *device.Device, fn string) (*info, *machine, error) {
	if dev == nil {
		return nil, nil, fmt.Errorf("%s: nil device: %w", fn, device.ErrInvalid)
	}
	m := of(dev)
	if m == nil {
		return nil, nil, fmt.Errorf("%s %s: no PM core on the device's machine (pm.Attach): %w", fn, dev.Path(), device.ErrInvalid)
	}
	return m.infoOf(dev), m, nil
}

// do runs one entry point as a PM call of the machine.
func do(dev *device.Device, fn string, f func(in *info) error) error {
	in, m, err := lookup(dev, fn)
	if err != nil {
		return err
	}
	m.enter()
	defer m.exit()
	return f(in)
}

// GetSync is pm_runtime_get_sync: the usage count goes up and the device
// is resumed now, its parent (and the suppliers of DL_FLAG_PM_RUNTIME
// links) first. The count stays up even when the resume fails: the
// caller must Put (or PutNoidle) in every case. An active device, or one
// whose runtime PM is disabled while it is active, is not an error.
func GetSync(dev *device.Device) error {
	return do(dev, "pm_runtime_get_sync", func(in *info) error { return in.resume(flagGetPut, "pm_runtime_get_sync") })
}

// ResumeAndGet is pm_runtime_resume_and_get: GetSync, with the count
// dropped again (PutNoidle) when the resume fails, so that the caller
// puts only on success.
func ResumeAndGet(dev *device.Device) error {
	return do(dev, "pm_runtime_resume_and_get", func(in *info) error {
		err := in.resume(flagGetPut, "pm_runtime_resume_and_get")
		if err != nil {
			in.putNoidle()
		}
		return err
	})
}

// Get is pm_runtime_get: the usage count goes up and a resume is
// requested on pm_wq; it does not wait.
func Get(dev *device.Device) error {
	return do(dev, "pm_runtime_get", func(in *info) error { return in.resume(flagGetPut|flagAsync, "pm_runtime_get") })
}

// GetNoresume is pm_runtime_get_noresume: the usage count goes up, and
// nothing else.
func GetNoresume(dev *device.Device) error {
	return do(dev, "pm_runtime_get_noresume", func(in *info) error {
		in.mu.Lock()
		in.usage++
		in.emit("pm_runtime_get_noresume", fmt.Sprintf("usage_count %d -> %d", in.usage-1, in.usage))
		in.mu.Unlock()
		return nil
	})
}

// Put is pm_runtime_put: the usage count goes down and, when it reaches
// zero, an idle check is requested on pm_wq (which may suspend the
// device). Putting at zero is the kernel's "Runtime PM usage count
// underflow!" warning and ErrInvalid; the count stays at zero.
func Put(dev *device.Device) error {
	return do(dev, "pm_runtime_put", func(in *info) error { return in.idle(flagGetPut|flagAsync, "pm_runtime_put") })
}

// PutSync is pm_runtime_put_sync: Put, with the idle check (and the
// suspend it may lead to) done now.
func PutSync(dev *device.Device) error {
	return do(dev, "pm_runtime_put_sync", func(in *info) error { return in.idle(flagGetPut, "pm_runtime_put_sync") })
}

// PutAutosuspend is pm_runtime_put_autosuspend: the last busy time is
// marked (as newer kernels do) and the usage count goes down; at zero an
// autosuspend is requested, which waits for the autosuspend delay on the
// machine's virtual clock (the suspend timer), then suspends the device
// from pm_wq. It skips the runtime_idle callback.
func PutAutosuspend(dev *device.Device) error {
	return do(dev, "pm_runtime_put_autosuspend", func(in *info) error {
		in.markLastBusy()
		return in.suspend(flagGetPut|flagAsync|flagAuto, "pm_runtime_put_autosuspend")
	})
}

// PutSyncAutosuspend is pm_runtime_put_sync_autosuspend: PutAutosuspend
// with the suspend done now once the delay is over.
func PutSyncAutosuspend(dev *device.Device) error {
	return do(dev, "pm_runtime_put_sync_autosuspend", func(in *info) error {
		return in.suspend(flagGetPut|flagAuto, "pm_runtime_put_sync_autosuspend")
	})
}

// PutSyncSuspend is pm_runtime_put_sync_suspend: the usage count goes
// down and, at zero, the device is suspended now (no idle callback, no
// delay).
func PutSyncSuspend(dev *device.Device) error {
	return do(dev, "pm_runtime_put_sync_suspend", func(in *info) error {
		return in.suspend(flagGetPut, "pm_runtime_put_sync_suspend")
	})
}

// PutNoidle is pm_runtime_put_noidle: the usage count goes down (never
// below zero, silently) and nothing else happens.
func PutNoidle(dev *device.Device) error {
	return do(dev, "pm_runtime_put_noidle", func(in *info) error { in.putNoidle(); return nil })
}

// RuntimeResume is pm_runtime_resume: resume the device now, without touching
// the usage count.
func RuntimeResume(dev *device.Device) error {
	return do(dev, "pm_runtime_resume", func(in *info) error { return in.resume(0, "pm_runtime_resume") })
}

// RuntimeSuspend is pm_runtime_suspend: suspend the device now if nothing holds
// it (usage count and active children zero, runtime PM enabled).
func RuntimeSuspend(dev *device.Device) error {
	return do(dev, "pm_runtime_suspend", func(in *info) error { return in.suspend(0, "pm_runtime_suspend") })
}

// RuntimeAutosuspend is pm_runtime_autosuspend: RuntimeSuspend once the autosuspend
// delay since the last busy time is over (else the suspend timer is
// armed for then).
func RuntimeAutosuspend(dev *device.Device) error {
	return do(dev, "pm_runtime_autosuspend", func(in *info) error { return in.suspend(flagAuto, "pm_runtime_autosuspend") })
}

// RuntimeIdle is pm_runtime_idle: run the idle check now (runtime_idle, then a
// suspend if it allows one).
func RuntimeIdle(dev *device.Device) error {
	return do(dev, "pm_runtime_idle", func(in *info) error { return in.idle(0, "pm_runtime_idle") })
}

// RequestIdle is pm_request_idle: queue an idle check on pm_wq.
func RequestIdle(dev *device.Device) error {
	return do(dev, "pm_request_idle", func(in *info) error { return in.idle(flagAsync, "pm_request_idle") })
}

// RequestResume is pm_request_resume: queue a resume on pm_wq.
func RequestResume(dev *device.Device) error {
	return do(dev, "pm_request_resume", func(in *info) error { return in.resume(flagAsync, "pm_request_resume") })
}

// RequestAutosuspend is pm_request_autosuspend: an asynchronous
// RuntimeAutosuspend.
func RequestAutosuspend(dev *device.Device) error {
	return do(dev, "pm_request_autosuspend", func(in *info) error {
		return in.suspend(flagAsync|flagAuto, "pm_request_autosuspend")
	})
}

// Barrier is pm_runtime_barrier: a pending resume request is carried out
// now, other pending requests and the suspend timer are cancelled, and a
// transition running meanwhile is waited for. It reports whether it
// resumed the device.
func Barrier(dev *device.Device) bool {
	resumed := false
	_ = do(dev, "pm_runtime_barrier", func(in *info) error { resumed = in.barrier("pm_runtime_barrier"); return nil })
	return resumed
}

// Enable is pm_runtime_enable: undo one Disable (runtime PM starts
// disabled once). Enabling more often than disabled is the kernel's
// "Unbalanced pm_runtime_enable!" warning.
func Enable(dev *device.Device) error {
	return do(dev, "pm_runtime_enable", func(in *info) error { in.enable("pm_runtime_enable"); return nil })
}

// Disable is pm_runtime_disable: runtime PM is disabled (nested: each
// Disable needs an Enable); a pending resume request is carried out
// first, and a transition in progress is waited for. The status stays as
// it is.
func Disable(dev *device.Device) error {
	return do(dev, "pm_runtime_disable", func(in *info) error { in.disable(true, "pm_runtime_disable"); return nil })
}

// DevmEnable is devm_pm_runtime_enable: Enable now, and at unbind
// (devres) pm_runtime_dont_use_autosuspend and pm_runtime_disable, after
// the driver's remove.
func DevmEnable(dev *device.Device) error {
	if err := Enable(dev); err != nil {
		return err
	}
	_, err := dev.Devres().AddOrReset("pm_runtime_disable_action", func() {
		_ = DontUseAutosuspend(dev)
		_ = Disable(dev)
	})
	return err
}

// SetActive is pm_runtime_set_active: a device whose runtime PM is
// disabled is declared active (its parent counts it as an active child);
// it fails with ErrAgain while runtime PM is enabled, and with ErrBusy,
// leaving the device suspended, under a parent that is suspended with
// runtime PM enabled. It clears a sticky runtime error.
func SetActive(dev *device.Device) error {
	return do(dev, "pm_runtime_set_active", func(in *info) error { return in.setStatusFn(Active, "pm_runtime_set_active") })
}

// SetSuspended is pm_runtime_set_suspended: a device whose runtime PM is
// disabled is declared suspended.
func SetSuspended(dev *device.Device) error {
	return do(dev, "pm_runtime_set_suspended", func(in *info) error {
		return in.setStatusFn(Suspended, "pm_runtime_set_suspended")
	})
}

// UseAutosuspend is pm_runtime_use_autosuspend: suspends wait for the
// autosuspend delay after the last busy time (SetAutosuspendDelay,
// MarkLastBusy).
func UseAutosuspend(dev *device.Device) error {
	return setAutosuspend(dev, true, "pm_runtime_use_autosuspend")
}

// DontUseAutosuspend is pm_runtime_dont_use_autosuspend.
func DontUseAutosuspend(dev *device.Device) error {
	return setAutosuspend(dev, false, "pm_runtime_dont_use_autosuspend")
}

func setAutosuspend(dev *device.Device, use bool, fn string) error {
	return do(dev, fn, func(in *info) error {
		in.mu.Lock()
		oldDelay, oldUse := int64(in.delay), in.useAutosuspend
		in.useAutosuspend = use
		in.emit(fn, fmt.Sprintf("use_autosuspend=%t delay=%v", use, in.delay))
		in.updateAutosuspend(oldDelay, oldUse)
		in.mu.Unlock()
		in.settle()
		return nil
	})
}

// SetAutosuspendDelay is pm_runtime_set_autosuspend_delay: the delay, on
// the machine's virtual clock, that an autosuspend waits after the last
// busy time. A negative delay prevents runtime suspend altogether (the
// device is resumed and held). The kernel counts it in milliseconds; d is
// rounded down to one.
func SetAutosuspendDelay(dev *device.Device, d time.Duration) error {
	return do(dev, "pm_runtime_set_autosuspend_delay", func(in *info) error {
		in.mu.Lock()
		oldDelay, oldUse := int64(in.delay), in.useAutosuspend
		in.delay = d.Truncate(time.Millisecond)
		in.emit("pm_runtime_set_autosuspend_delay", fmt.Sprintf("delay=%v", in.delay))
		in.updateAutosuspend(oldDelay, oldUse)
		in.mu.Unlock()
		in.settle()
		return nil
	})
}

// MarkLastBusy is pm_runtime_mark_last_busy: the autosuspend delay counts
// from now.
func MarkLastBusy(dev *device.Device) error {
	return do(dev, "pm_runtime_mark_last_busy", func(in *info) error { in.markLastBusy(); return nil })
}

func (in *info) markLastBusy() {
	in.mu.Lock()
	in.lastBusy = in.m.e.Now()
	in.mu.Unlock()
}

// Allow is pm_runtime_allow, writing "auto" to power/control: the
// usage-count hold Forbid took is dropped and the device may suspend.
func Allow(dev *device.Device) error {
	return do(dev, "pm_runtime_allow", func(in *info) error {
		in.mu.Lock()
		defer func() {
			in.mu.Unlock()
			in.settle()
		}()
		if in.runtimeAuto {
			return nil
		}
		in.runtimeAuto = true
		n, err := in.dropUsage("pm_runtime_allow")
		if err == nil && n == 0 {
			_ = in.rpmIdle(flagAuto | flagAsync)
		}
		return err
	})
}

// Forbid is pm_runtime_forbid, writing "on" to power/control: the device
// is resumed and held (a usage-count reference) until Allow.
func Forbid(dev *device.Device) error {
	return do(dev, "pm_runtime_forbid", func(in *info) error {
		in.mu.Lock()
		defer func() {
			in.mu.Unlock()
			in.settle()
		}()
		if !in.runtimeAuto {
			return nil
		}
		in.runtimeAuto = false
		in.usage++
		in.emit("pm_runtime_forbid", fmt.Sprintf("usage_count %d -> %d", in.usage-1, in.usage))
		return in.rpmResume(0)
	})
}

// NoCallbacks is pm_runtime_no_callbacks: the device has no runtime PM
// callbacks of its own (a USB interface, a logical device): its
// transitions succeed at once and its parent decides.
func NoCallbacks(dev *device.Device) error {
	return do(dev, "pm_runtime_no_callbacks", func(in *info) error {
		in.mu.Lock()
		in.noCallbacks = true
		in.mu.Unlock()
		return nil
	})
}

// IgnoreChildren is pm_suspend_ignore_children: whether the device may
// suspend while children are active.
func IgnoreChildren(dev *device.Device, on bool) error {
	return do(dev, "pm_suspend_ignore_children", func(in *info) error {
		in.mu.Lock()
		in.ignoreChildren = on
		in.mu.Unlock()
		return nil
	})
}

// State is a snapshot of a device's runtime PM state, as
// /sys/devices/.../power shows it.
type State struct {
	// Status is runtime_status.
	Status Status
	// Usage is the usage count, Children the count of active children.
	Usage, Children int
	// Enabled reports whether runtime PM is enabled (disable_depth 0).
	Enabled bool
	// DisableDepth is how many Disables are not undone.
	DisableDepth int
	// Error is the sticky runtime error, nil for none.
	Error error
	// Auto is power/control: true for "auto", false after Forbid.
	Auto bool
	// UseAutosuspend and AutosuspendDelay are the autosuspend settings;
	// LastBusy is the last busy time on the virtual clock.
	UseAutosuspend   bool
	AutosuspendDelay time.Duration
	LastBusy         time.Duration
	// TimerExpires is when the suspend timer fires, 0 when not armed.
	TimerExpires time.Duration
	// RequestPending reports a request queued on pm_wq.
	RequestPending bool
}

// String renders the state on one line, the way the device tree shows it:
// "rpm=active usage=1 children=0" plus "disabled", "forbidden", "error".
func (s State) String() string {
	out := fmt.Sprintf("rpm=%s usage=%d children=%d", s.Status, s.Usage, s.Children)
	if !s.Enabled {
		out += " disabled"
	}
	if !s.Auto {
		out += " forbidden"
	}
	if s.Error != nil {
		out += " error=" + device.ErrnoName(s.Error)
	}
	return out
}

// StateOf returns dev's runtime PM state; ok is false for a device of a
// machine without a PM core.
func StateOf(dev *device.Device) (s State, ok bool) {
	in, _, err := lookup(dev, "pm_runtime_status")
	if err != nil {
		return State{}, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return State{Status: in.status, Usage: in.usage, Children: in.children, Enabled: in.disableDepth == 0,
		DisableDepth: in.disableDepth, Error: in.runtimeErr, Auto: in.runtimeAuto, UseAutosuspend: in.useAutosuspend,
		AutosuspendDelay: in.delay, LastBusy: in.lastBusy, TimerExpires: in.timerExpires, RequestPending: in.requestPending}, true
}

// RuntimeStatus returns dev's runtime PM status (Suspended for a device
// without a PM core: what pm_runtime_init sets).
func RuntimeStatus(dev *device.Device) Status {
	s, ok := StateOf(dev)
	if !ok {
		return Suspended
	}
	return s.Status
}

// UsageCount returns dev's usage count (atomic_read(&dev->power.usage_count)).
func UsageCount(dev *device.Device) int {
	s, _ := StateOf(dev)
	return s.Usage
}

// Enabled is pm_runtime_enabled.
func Enabled(dev *device.Device) bool {
	s, _ := StateOf(dev)
	return s.Enabled
}

// IsActive is pm_runtime_active: the device is active, or its runtime PM
// is disabled (so nothing suspended it).
func IsActive(dev *device.Device) bool {
	s, ok := StateOf(dev)
	return ok && (s.Status == Active || !s.Enabled)
}

// IsSuspended is pm_runtime_suspended: runtime PM enabled and the device
// suspended.
func IsSuspended(dev *device.Device) bool {
	s, ok := StateOf(dev)
	return ok && s.Status == Suspended && s.Enabled
}
