package pm

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// The entry points of runtime.c: __pm_runtime_idle,
// __pm_runtime_suspend and __pm_runtime_resume, which every helper of
// include/linux/pm_runtime.h calls with its flags, and the usage count's
// own helpers. fn names the helper for the trace.

// dropUsage is rpm_drop_usage_count: the usage count goes down by one; a
// count that would go below zero is left at zero, with the kernel's
// warning, and ErrInvalid. It returns the new count. Called with in.mu
// held.
func (in *info) dropUsage(fn string) (int, error) {
	if in.usage == 0 {
		in.m.emit(trace.Warn, in.dev, fn, "Runtime PM usage count underflow!")
		return 0, fmt.Errorf("%s %s: usage count underflow: %w", fn, in.dev.Path(), device.ErrInvalid)
	}
	in.usage--
	in.emit(fn, fmt.Sprintf("usage_count %d -> %d", in.usage+1, in.usage))
	return in.usage, nil
}

// enterCall is the start of every entry point: might_sleep for a
// synchronous call. The schedule points are where a task may lose the
// CPU in the kernel too: before a callback (rpm_callback), at a wait for
// a transition running elsewhere, at queue_work and at the timer's
// operations.
func (in *info) enterCall(fn string, f flags) {
	if f&flagAsync == 0 {
		in.m.e.MightSleep(fn + " " + in.dev.Path())
	}
}

// idle is __pm_runtime_idle.
func (in *info) idle(f flags, fn string) error { return in.putThen(f, fn, in.rpmIdle) }

// suspend is __pm_runtime_suspend.
func (in *info) suspend(f flags, fn string) error { return in.putThen(f, fn, in.rpmSuspend) }

// putThen is the shape __pm_runtime_idle and __pm_runtime_suspend share:
// with GET_PUT the usage count drops first, and only a count that reached
// zero goes on to rpm (rpm_idle or rpm_suspend), under the power lock.
func (in *info) putThen(f flags, fn string, rpm func(flags) error) error {
	in.enterCall(fn, f)
	in.mu.Lock()
	if f&flagGetPut != 0 {
		n, err := in.dropUsage(fn)
		if err != nil || n > 0 {
			in.mu.Unlock()
			return err
		}
	}
	err := rpm(f)
	in.mu.Unlock()
	in.settle()
	return err
}

// resume is __pm_runtime_resume: with GET_PUT the usage count goes up
// first, and stays up whatever the resume returns (as the kernel's
// pm_runtime_get_sync does: a caller that gets an error must still put).
func (in *info) resume(f flags, fn string) error {
	in.enterCall(fn, f)
	in.mu.Lock()
	if f&flagGetPut != 0 {
		in.usage++
		in.emit(fn, fmt.Sprintf("usage_count %d -> %d", in.usage-1, in.usage))
	}
	err := in.rpmResume(f)
	in.mu.Unlock()
	in.settle()
	return err
}

// putNoidle is pm_runtime_put_noidle: the usage count goes down, never
// below zero, and nothing else happens.
func (in *info) putNoidle() {
	in.mu.Lock()
	if in.usage > 0 {
		in.usage--
	}
	in.mu.Unlock()
}

// barrier is pm_runtime_barrier: a pending resume request is carried out
// now, other requests and the suspend timer are cancelled, and a
// transition running elsewhere is waited for. It reports whether it
// resumed the device.
func (in *info) barrier(fn string) bool {
	in.enterCall(fn, 0)
	in.mu.Lock()
	in.usage++ // pm_runtime_get_noresume
	resumed := false
	if in.requestPending && in.req == reqResume {
		_ = in.rpmResume(0)
		resumed = true
	}
	in.barrierLocked()
	if in.usage > 0 {
		in.usage-- // pm_runtime_put_noidle
	}
	in.mu.Unlock()
	in.settle()
	return resumed
}

// barrierLocked is __pm_runtime_barrier, with in.mu held: the timer is
// stopped, a pending request cancelled (cancel_work_sync), and a
// transition or idle callback running elsewhere waited for.
func (in *info) barrierLocked() {
	in.deactivateTimer()
	if in.requestPending {
		in.req = reqNone
		in.unlocked(in.cancelWork)
		in.requestPending = false
	}
	if in.status == Suspending || in.status == Resuming || in.idleNotification {
		in.waitTransition(func() bool {
			return in.status != Suspending && in.status != Resuming && !in.idleNotification
		})
	}
}

// cancelWork is cancel_work_sync(&dev->power.work).
func (in *info) cancelWork() {
	m := in.m
	if m.workqueue() != nil {
		in.workItem().CancelSync()
		return
	}
	m.mu.Lock()
	for i, x := range m.queued {
		if x == in {
			m.queued = append(m.queued[:i:i], m.queued[i+1:]...)
			break
		}
	}
	m.mu.Unlock()
	in.mu.Lock()
	in.queued = false
	in.mu.Unlock()
}

// disable is __pm_runtime_disable.
func (in *info) disable(checkResume bool, fn string) {
	in.enterCall(fn, 0)
	in.mu.Lock()
	defer func() {
		in.mu.Unlock()
		in.settle()
	}()
	if in.disableDepth > 0 {
		in.disableDepth++
		in.emit(fn, fmt.Sprintf("disable_depth %d", in.disableDepth))
		return
	}
	if checkResume && in.requestPending && in.req == reqResume {
		in.usage++
		_ = in.rpmResume(0)
		if in.usage > 0 {
			in.usage--
		}
	}
	in.disableDepth++
	in.emit(fn, "runtime PM disabled "+in.counts())
	in.barrierLocked()
	in.lastStatus = in.status
}

// enable is pm_runtime_enable.
func (in *info) enable(fn string) { in.enableDepth(fn, true) }

// enableDepth is pm_runtime_enable; loud traces a depth that stays above
// zero (not for the enable that ends __pm_runtime_set_status).
func (in *info) enableDepth(fn string, loud bool) {
	in.enterCall(fn, flagAsync)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.disableDepth == 0 {
		in.m.emit(trace.Warn, in.dev, fn, "Unbalanced pm_runtime_enable!")
		return
	}
	in.disableDepth--
	if in.disableDepth > 0 {
		if loud {
			in.emit(fn, fmt.Sprintf("disable_depth %d", in.disableDepth))
		}
		return
	}
	in.lastStatus = -1 // RPM_INVALID
	in.traced = true
	in.emit(fn, "runtime PM enabled "+in.counts())
	if in.status == Suspended && !in.ignoreChildren && in.children > 0 {
		in.m.emit(trace.Warn, in.dev, fn, "Enabling runtime PM for inactive device with active children")
	}
}

// setStatus is __pm_runtime_set_status for Active or Suspended.
func (in *info) setStatusFn(s Status, fn string) error {
	in.enterCall(fn, flagAsync)
	in.mu.Lock()
	if in.runtimeErr == nil && in.disableDepth == 0 {
		in.mu.Unlock()
		return fmt.Errorf("%s %s: runtime PM is enabled and working: %w", fn, in.dev.Path(), device.ErrAgain)
	}
	in.disableDepth++ // keep runtime PM off meanwhile; pm_runtime_enable below undoes it
	parent := in.dev.Parent()
	var err error
	notify := false
	if in.status != s && parent != nil {
		pi := in.m.infoOf(parent)
		pi.mu.Lock()
		if s == Suspended {
			if pi.children > 0 {
				pi.children--
			}
			notify = !pi.ignoreChildren
		} else {
			if pi.disableDepth == 0 && !pi.ignoreChildren && pi.status != Active {
				in.m.emit(trace.Warn, in.dev, fn, "runtime PM trying to activate child device "+in.dev.Name()+" but parent ("+parent.Name()+") is not active")
				err = fmt.Errorf("%s %s: parent %s is not active: %w", fn, in.dev.Path(), parent.Name(), device.ErrBusy)
			} else if in.status == Suspended {
				pi.children++
			}
		}
		pi.mu.Unlock()
	}
	if err == nil {
		in.setStatus(s)
		in.runtimeErr = nil
	}
	in.mu.Unlock()
	if notify {
		_ = in.m.infoOf(parent).idle(flagAsync, "pm_request_idle")
	}
	if s == Suspended {
		in.putSupplierLinks(false)
	}
	in.enableDepth(fn, false)
	return err
}

// reinit is pm_runtime_reinit: a device whose runtime PM is disabled and
// that is active is set back to suspended, as the core expects of a
// device without a driver.
func (in *info) reinit() {
	in.mu.Lock()
	do := in.disableDepth > 0 && in.status == Active
	in.mu.Unlock()
	if do {
		_ = in.setStatusFn(Suspended, "pm_runtime_reinit")
	}
}

// updateAutosuspend is update_autosuspend, after the delay or
// use_autosuspend changed; called with in.mu held.
func (in *info) updateAutosuspend(oldDelay int64, oldUse bool) {
	if in.useAutosuspend && in.delay < 0 {
		if !oldUse || oldDelay >= 0 {
			in.usage++
			_ = in.rpmResume(0)
		}
		return
	}
	if oldUse && oldDelay < 0 && in.usage > 0 {
		in.usage--
	}
	_ = in.rpmIdle(flagAuto)
}
