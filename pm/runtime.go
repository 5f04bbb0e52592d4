package pm

import (
	"errors"
	"fmt"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sched"
)

// This file is runtime.c's engine: rpm_idle, rpm_suspend, rpm_resume and
// rpm_callback, called with in.mu (power.lock) held, and the work and
// timer functions that carry out the asynchronous requests.

// emit records a runtime PM event of the device. A device whose runtime
// PM was never enabled records nothing: the driver core's calls around
// every probe and unbind do nothing for it (they return -EACCES at once),
// and the kernel's ftrace events for them are noise.
func (in *info) emit(fn, msg string) {
	if !in.traced {
		return
	}
	in.flushEntry()
	in.m.emit(KindRuntime, in.dev, fn, msg)
}

// openEntry records the start of an rpm_* function (its flags and the
// counts it sees), held back until something else happens: a call that
// returns at once is one line, "rpm_resume: flags=... -> 1".
func (in *info) openEntry(fn, msg string) {
	if !in.traced {
		return
	}
	in.flushEntry()
	in.entryFn, in.entryMsg = fn, msg
}

// flushEntry records the held-back start of an rpm_* function.
func (in *info) flushEntry() {
	if in.entryFn == "" {
		return
	}
	fn, msg := in.entryFn, in.entryMsg
	in.entryFn, in.entryMsg = "", ""
	in.m.emit(KindRuntime, in.dev, fn, msg)
}

// counts renders the state the kernel's rpm_* trace events show.
func (in *info) counts() string {
	return fmt.Sprintf("usage=%d children=%d disable_depth=%d status=%s", in.usage, in.children, in.disableDepth, in.status)
}

// setStatus is __update_runtime_status.
func (in *info) setStatus(s Status) {
	if in.status == s {
		return
	}
	in.emit("__update_runtime_status", in.status.String()+" -> "+s.String())
	in.status = s
}

// ret traces what an rpm_* function returns (trace_rpm_return_int).
func (in *info) ret(fn string, err error, already bool) {
	if !in.traced {
		return
	}
	r := device.ErrnoName(err)
	if err == nil && already {
		r = "1"
	}
	if in.entryFn == fn {
		msg := in.entryMsg
		in.entryFn, in.entryMsg = "", ""
		in.m.emit(KindRuntime, in.dev, fn, msg+" -> "+r)
		return
	}
	in.emit("rpm_return_int", fn+" ret="+r)
}

// checkSuspendAllowed is rpm_check_suspend_allowed: an error when the
// device may not suspend, already when it is suspended.
func (in *info) checkSuspendAllowed() (already bool, err error) {
	switch {
	case in.runtimeErr != nil:
		return false, device.ErrInvalid
	case in.disableDepth > 0:
		return false, device.ErrAccess
	case in.usage > 0:
		return false, device.ErrAgain
	case !in.ignoreChildren && in.children > 0:
		return false, device.ErrBusy
	case (in.requestPending && in.req >= reqResume) || (in.status == Suspending && in.deferredResume):
		return false, device.ErrAgain
	case in.status == Suspended:
		return true, nil
	}
	return false, nil
}

// queueRequest records an asynchronous request and queues the device's
// work unless it is queued already (it runs the newest request).
func (in *info) queueRequest(r request) {
	in.req = r
	if !in.requestPending {
		in.requestPending = true
		in.pendingQueue = true
	}
}

// cancelPending is pm_runtime_cancel_pending.
func (in *info) cancelPending() {
	in.deactivateTimer()
	in.req = reqNone
}

// deactivateTimer is pm_runtime_deactivate_timer.
func (in *info) deactivateTimer() {
	if in.timerExpires > 0 {
		in.timerExpires = 0
		in.timerSet = true
	}
}

// expiration is pm_runtime_autosuspend_expiration: the virtual time the
// autosuspend delay ends at, 0 when it has ended or does not apply.
func (in *info) expiration() time.Duration {
	if !in.useAutosuspend || in.delay < 0 {
		return 0
	}
	exp := in.lastBusy + in.delay
	if exp > in.m.e.Now() {
		return exp
	}
	return 0
}

// rpmIdle is rpm_idle.
func (in *info) rpmIdle(f flags) error {
	in.openEntry("rpm_idle", "flags="+f.String()+" "+in.counts())
	_, err := in.checkSuspendAllowed()
	switch {
	case err != nil:
	case in.status != Active:
		err = device.ErrAgain
	case in.requestPending && in.req > reqIdle:
		err = device.ErrAgain
	case in.idleNotification:
		err = device.ErrInProgress
	}
	if err != nil {
		in.ret("rpm_idle", err, false)
		return err
	}
	in.req = reqNone
	cb, who := in.callback(func(o *device.PMOps) func(*device.Device) error { return o.RuntimeIdle })
	if cb != nil && !in.noCallbacks {
		if f&flagAsync != 0 {
			in.queueRequest(reqIdle)
			in.ret("rpm_idle", nil, false)
			return nil
		}
		in.idleNotification = true
		in.unlocked(func() { err = in.call("runtime_idle", who, cb) })
		in.idleNotification = false
		in.q.WakeAll()
		if err != nil {
			in.ret("rpm_idle", err, false)
			return err
		}
	}
	return in.rpmSuspend(f | flagAuto)
}

// rpmSuspend is rpm_suspend.
func (in *info) rpmSuspend(f flags) error {
	in.openEntry("rpm_suspend", "flags="+f.String()+" "+in.counts())
	for {
		already, err := in.checkSuspendAllowed()
		if err == nil && !already && in.status == Resuming && f&flagAsync == 0 {
			err = device.ErrAgain
		}
		if err != nil || already {
			in.ret("rpm_suspend", err, already)
			return err
		}
		if f&flagAuto != 0 && in.status != Suspending {
			if exp := in.expiration(); exp != 0 {
				in.req = reqNone
				if !(in.timerExpires > 0 && in.timerExpires <= exp) {
					in.timerExpires = exp
					in.timerSet = true
					in.emit("rpm_suspend", fmt.Sprintf("autosuspend delay not over: suspend timer armed for %v", in.timerExpires))
				}
				in.timerAutosuspends = true
				in.ret("rpm_suspend", nil, false)
				return nil
			}
		}
		in.cancelPending()
		if in.status == Suspending {
			if f&(flagAsync|flagNowait) != 0 {
				in.ret("rpm_suspend", device.ErrInProgress, false)
				return device.ErrInProgress
			}
			in.waitTransition(func() bool { return in.status != Suspending })
			continue
		}
		in.deferredResume = false
		if !in.noCallbacks {
			if f&flagAsync != 0 {
				r := reqSuspend
				if f&flagAuto != 0 {
					r = reqAutosuspend
				}
				in.queueRequest(r)
				in.ret("rpm_suspend", nil, false)
				return nil
			}
			in.setStatus(Suspending)
			cb, who := in.callback(func(o *device.PMOps) func(*device.Device) error { return o.RuntimeSuspend })
			err = in.rpmCallback("runtime_suspend", cb, who)
			if err != nil {
				// fail:
				in.setStatus(Active)
				in.deferredResume = false
				in.q.WakeAll()
				if errors.Is(err, device.ErrAgain) || errors.Is(err, device.ErrBusy) {
					in.runtimeErr = nil
					if f&flagAuto != 0 && in.expiration() != 0 {
						continue // a newer last_busy: try again (re-arms the timer)
					}
				} else {
					in.cancelPending()
				}
				in.ret("rpm_suspend", err, false)
				return err
			}
		}
		// no_callback:
		in.setStatus(Suspended)
		in.deactivateTimer()
		parent := in.dev.Parent()
		var pi *info
		if parent != nil {
			pi = in.m.infoOf(parent)
			in.unlocked(func() {
				pi.mu.Lock()
				if pi.children > 0 {
					pi.children--
				}
				pi.mu.Unlock()
			})
		}
		in.q.WakeAll()
		if in.deferredResume {
			in.deferredResume = false
			_ = in.rpmResume(0)
			in.ret("rpm_suspend", device.ErrAgain, false)
			return device.ErrAgain
		}
		if pi != nil {
			in.unlocked(func() {
				pi.mu.Lock()
				if !pi.ignoreChildren {
					_ = pi.rpmIdle(flagAsync)
				}
				pi.mu.Unlock()
				pi.settle()
			})
		}
		if in.linksCount > 0 {
			in.unlocked(in.suspendSuppliers)
		}
		in.ret("rpm_suspend", nil, false)
		return nil
	}
}

// rpmResume is rpm_resume.
func (in *info) rpmResume(f flags) error {
	in.openEntry("rpm_resume", "flags="+f.String()+" "+in.counts())
	var pi *info // the parent, once its usage count is held
	var err error
	already := false
	for {
		if in.runtimeErr != nil {
			err = device.ErrInvalid
		} else if in.disableDepth > 0 {
			if in.status == Active && in.lastStatus == Active {
				already = true
			} else {
				err = device.ErrAccess
			}
		}
		if err != nil || already {
			break
		}
		in.req = reqNone
		if !in.timerAutosuspends {
			in.deactivateTimer()
		}
		if in.status == Active {
			already = true
			break
		}
		if in.status == Resuming || in.status == Suspending {
			if f&(flagAsync|flagNowait) != 0 {
				if in.status == Suspending {
					in.deferredResume = true
					if f&flagNowait != 0 {
						err = device.ErrInProgress
					}
				} else {
					err = device.ErrInProgress
				}
				break
			}
			in.waitTransition(func() bool { return in.status != Resuming && in.status != Suspending })
			continue
		}
		parent := in.dev.Parent()
		if in.noCallbacks && pi == nil && parent != nil {
			ppi := in.m.infoOf(parent)
			skip := false
			in.unlocked(func() {
				ppi.mu.Lock()
				if ppi.disableDepth > 0 || ppi.ignoreChildren || ppi.status == Active {
					ppi.children++
					skip = true
				}
				ppi.mu.Unlock()
			})
			if skip {
				in.setStatus(Active)
				in.lastBusy = in.m.e.Now()
				in.q.WakeAll()
				_ = in.rpmIdle(flagAsync)
				break
			}
		}
		if f&flagAsync != 0 {
			in.queueRequest(reqResume)
			break
		}
		if pi == nil && parent != nil {
			pi = in.m.infoOf(parent)
			in.unlocked(func() {
				pi.mu.Lock()
				pi.usage++ // pm_runtime_get_noresume(parent)
				if pi.disableDepth == 0 && !pi.ignoreChildren {
					_ = pi.rpmResume(0)
					if pi.status != Active {
						err = device.ErrBusy
					}
				}
				pi.mu.Unlock()
				pi.settle()
			})
			if err != nil {
				break
			}
			continue
		}
		if in.noCallbacks {
			in.resumed(pi)
			break
		}
		in.setStatus(Resuming)
		cb, who := in.callback(func(o *device.PMOps) func(*device.Device) error { return o.RuntimeResume })
		err = in.rpmCallback("runtime_resume", cb, who)
		if err != nil {
			in.setStatus(Suspended)
			in.cancelPending()
			in.q.WakeAll()
			break
		}
		in.resumed(pi)
		break
	}
	if pi != nil {
		in.unlocked(func() { _ = pi.idle(flagGetPut|flagAsync, "pm_runtime_put") })
	}
	in.ret("rpm_resume", err, already)
	return err
}

// resumed is rpm_resume's success path (no_callback:): active, last_busy
// marked, the parent's count of active children raised, then an
// asynchronous idle check.
func (in *info) resumed(pi *info) {
	in.setStatus(Active)
	in.lastBusy = in.m.e.Now()
	if pi != nil {
		in.unlocked(func() {
			pi.mu.Lock()
			pi.children++
			pi.mu.Unlock()
		})
	}
	in.q.WakeAll()
	_ = in.rpmIdle(flagAsync)
}

// waitTransition waits, with in.mu dropped, until done() holds (the
// kernel's prepare_to_wait loop on power.wait_queue).
func (in *info) waitTransition(done func() bool) {
	in.emit("rpm_wait", "waiting for the "+in.status.String()+" transition running elsewhere")
	in.unlocked(func() {
		in.q.Wait("rpm "+in.dev.Name()+" transition", func() bool {
			in.mu.Lock()
			defer in.mu.Unlock()
			return done()
		})
	})
}

// callback is RPM_GET_CALLBACK: the callback of the first layer that has
// power-management operations (the class's, then the bus's), else the
// driver's; who names where it came from.
func (in *info) callback(pick func(*device.PMOps) func(*device.Device) error) (cb func(*device.Device) error, who string) {
	return callbackOf(in.dev, pick)
}

func callbackOf(dev *device.Device, pick func(*device.PMOps) func(*device.Device) error) (cb func(*device.Device) error, who string) {
	if p, ok := dev.Class().(device.PMProvider); ok && p.PMOps() != nil {
		cb, who = pick(p.PMOps()), "class "+dev.ClassName()
	} else if p, ok := dev.Bus().(device.PMProvider); ok && p.PMOps() != nil {
		cb, who = pick(p.PMOps()), "bus "+dev.BusName()
	}
	if cb == nil {
		if drv, ok := dev.Driver().(*driver.Driver); ok && drv.PM != nil {
			cb, who = pick(drv.PM), "driver "+drv.Name
		}
	}
	return cb, who
}

// rpmCallback is rpm_callback and __rpm_callback: the callback runs with
// power.lock dropped; a resume first resumes the suppliers of
// DL_FLAG_PM_RUNTIME links, a suspend that succeeded (or a resume that
// failed) drops the holds on them. Its error is recorded as the device's
// runtime_error (rpm_suspend clears it again for -EAGAIN and -EBUSY); a
// callback returning -EACCES is taken as -EIO.
func (in *info) rpmCallback(name string, cb func(*device.Device) error, who string) error {
	if cb == nil {
		in.emit("rpm_callback", name+": no callback: -ENOSYS")
		return device.ErrNoSys
	}
	useLinks := in.linksCount > 0
	resuming := in.status == Resuming
	var err error
	in.unlocked(func() {
		if useLinks && resuming {
			if err = in.getSupplierLinks(); err != nil {
				in.putSupplierLinks(false)
				return
			}
		}
		err = in.call(name, who, cb)
		if useLinks && ((!resuming && err == nil) || (resuming && err != nil)) {
			in.putSupplierLinks(false)
		}
	})
	if err != nil {
		in.runtimeErr = err
		if errors.Is(err, device.ErrAccess) {
			err = device.ErrIO
		}
	}
	return err
}

// call runs one runtime PM callback: a schedule point, a trace event
// before and after, and an oops (a panic) turned into an error.
func (in *info) call(name, who string, cb func(*device.Device) error) (err error) {
	e := in.m.e
	in.emit("rpm_callback", name+" ("+who+")")
	e.Yield(sched.Point{Kind: "rpm_callback", Func: name, Obj: in.dev.Path()})
	defer func() {
		if v := recover(); v != nil {
			err = e.Oops(v, env.OopsSite{Func: "rpm_callback", Callback: name, Dev: in.dev.Path(), Driver: in.dev.DriverName()})
		}
		if err != nil {
			in.emit("rpm_callback", name+" ret="+device.ErrnoName(err))
		}
	}()
	return cb(in.dev)
}

// work1 is pm_runtime_work: carry out the device's pending request.
func (in *info) work1() {
	in.mu.Lock()
	if !in.requestPending {
		in.mu.Unlock()
		return
	}
	r := in.req
	in.req = reqNone
	in.requestPending = false
	in.emit("pm_runtime_work", "request "+[...]string{"none", "idle", "suspend", "autosuspend", "resume"}[r])
	switch r {
	case reqIdle:
		_ = in.rpmIdle(flagNowait)
	case reqSuspend:
		_ = in.rpmSuspend(flagNowait)
	case reqAutosuspend:
		_ = in.rpmSuspend(flagNowait | flagAuto)
	case reqResume:
		_ = in.rpmResume(flagNowait)
	}
	in.mu.Unlock()
	in.settle()
}

// timerFn is pm_suspend_timer_fn, in the timer's softirq context: once
// the expiry has passed, an asynchronous (auto)suspend is requested.
func (in *info) timerFn(*kernel.Timer) {
	in.mu.Lock()
	exp := in.timerExpires
	now := in.m.e.Now()
	switch {
	case exp > 0 && exp <= now:
		in.timerExpires = 0
		in.emit("pm_suspend_timer_fn", "autosuspend timer expired")
		f := flagAsync
		if in.timerAutosuspends {
			f |= flagAuto
		}
		_ = in.rpmSuspend(f)
	case exp > now:
		in.timerSet = true // re-armed later than this expiry: arm it again
	}
	in.mu.Unlock()
	in.settle()
}
