package pm

import (
	"container/list"
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// This file is drivers/base/power/main.c: the PM core's device list and
// the phases of a system sleep transition.
//
// dpm_list holds every registered device in the order of device_add
// (device_pm_add appends), so a parent comes before its children; device
// links and deferred-probe retries move a device, its children and its
// consumers to the end (device_pm_move_last), so a supplier comes before
// its consumers. A transition moves the devices from list to list:
// dpm_prepare walks dpm_list from its head onto the tail of the prepared
// list; dpm_suspend, dpm_suspend_late and dpm_suspend_noirq walk their
// list from the tail (children and consumers first) onto the head of the
// next; the resume phases walk back from the head onto the tail of the
// previous list, and dpm_complete from the tail of the prepared list back
// onto dpm_list, which ends in its old order.

// Lists of a transition, in the order the devices move through them.
const (
	listMain      = iota // dpm_list
	listPrepared         // dpm_prepared_list
	listSuspended        // dpm_suspended_list
	listLateEarly        // dpm_late_early_list
	listNoirq            // dpm_noirq_list
	numLists
)

// dpmList is the PM core's device lists, guarded by machine.mu
// (dpm_list_mtx).
type dpmList struct {
	l [numLists]list.List // of *info
}

// sleepInfo is the system-sleep half of dev_pm_info.
type sleepInfo struct {
	elem       *list.Element
	which      int // the list elem is on
	inList     bool
	prepared   bool // is_prepared
	suspended  bool // is_suspended
	late       bool // is_late_suspended
	noirq      bool // is_noirq_suspended
	async      bool // async_suspend
	done       *kernel.Completion
	asyncTask  bool // an async callback is scheduled for this phase
	completeOK bool // device_prepare succeeded: device_complete owes the put
}

func (s *sleepInfo) init(m *machine, dev *device.Device) {
	s.done = kernel.NewCompletion(m.e, "power.completion "+dev.Name())
	s.done.CompleteAll() // device_pm_sleep_init
}

// sleepState is the machine's system-sleep state.
type sleepState struct {
	busy     bool  // a transition or the sleep between Suspend and Resume
	asleep   bool  // Suspend succeeded, Resume not yet called
	asyncErr error // async_error: the first error of an asynchronous callback
	wakeup   bool  // pm_wakeup_pending: a wakeup event during the transition
	async    int   // asynchronous callbacks in flight (async_synchronize_full)
}

// dpmAdd is device_pm_add: dev joins the end of dpm_list; adding a child
// below a prepared parent draws the kernel's warning.
func (m *machine) dpmAdd(dev *device.Device) {
	in := m.infoOf(dev)
	if p := dev.Parent(); p != nil {
		pi := m.infoOf(p)
		m.mu.Lock()
		prep := pi.prepared
		m.mu.Unlock()
		if prep {
			m.emit(trace.Warn, dev, "device_pm_add", "parent "+p.Name()+" should not be sleeping")
		}
	}
	m.mu.Lock()
	in.elem = m.dpm.l[listMain].PushBack(in)
	in.which, in.inList = listMain, true
	m.mu.Unlock()
}

// dpmRemove is device_pm_remove: the device leaves whatever list it is on
// (a transition walking past it finds it gone), its completion is
// completed so nothing waits for it, and runtime PM is disabled for good
// (pm_runtime_remove).
func (m *machine) dpmRemove(dev *device.Device) {
	m.enter()
	defer m.exit()
	in := m.infoOf(dev)
	in.done.CompleteAll()
	m.mu.Lock()
	if in.inList {
		m.dpm.l[in.which].Remove(in.elem)
		in.elem, in.inList = nil, false
	}
	m.mu.Unlock()
	in.disable(false, "pm_runtime_remove")
	in.reinit()
}

// dpmMoveLast is device_pm_move_last; called with the driver core's lock
// held.
func (m *machine) dpmMoveLast(dev *device.Device) {
	in, ok := dev.PowerState().(*info)
	if !ok {
		return
	}
	m.mu.Lock()
	if in.inList {
		m.dpm.l[in.which].MoveToBack(in.elem)
	}
	m.mu.Unlock()
}

// move puts in on the head or tail of list to (list_move, list_move_tail).
func (m *machine) moveLocked(in *info, to int, head bool) {
	if !in.inList {
		return
	}
	m.dpm.l[in.which].Remove(in.elem)
	if head {
		in.elem = m.dpm.l[to].PushFront(in)
	} else {
		in.elem = m.dpm.l[to].PushBack(in)
	}
	in.which = to
}

// Devices returns the PM core's device list (dpm_list) in order, with the
// devices of a transition in progress where they are: the order in which
// Suspend prepares them.
func Devices(h env.Host) []*device.Device {
	m := of(h)
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*device.Device
	for i := listNoirq; i >= listMain; i-- { // a sleeping machine's devices sit on the later lists
		for e := m.dpm.l[i].Front(); e != nil; e = e.Next() {
			out = append(out, e.Value.(*info).dev)
		}
	}
	return out
}

// EnableAsyncSuspend is device_enable_async_suspend: dev's system-sleep
// callbacks may run in a task of their own, concurrently with other
// devices', ordered only by its parent, children and device links.
func EnableAsyncSuspend(dev *device.Device) error {
	return do(dev, "device_enable_async_suspend", func(in *info) error {
		in.m.mu.Lock()
		in.async = true
		in.m.mu.Unlock()
		return nil
	})
}

// DisableAsyncSuspend is device_disable_async_suspend: dev's system-sleep
// callbacks run in list order, by the task walking the list.
func DisableAsyncSuspend(dev *device.Device) error {
	return do(dev, "device_disable_async_suspend", func(in *info) error {
		in.m.mu.Lock()
		in.async = false
		in.m.mu.Unlock()
		return nil
	})
}

// Asleep reports whether the machine of h is suspended: Suspend succeeded
// and Resume has not run yet.
func Asleep(h env.Host) bool {
	m := of(h)
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sleep.asleep
}

// WakeupEvent is pm_wakeup_event for a device that may wake the system:
// during a system suspend transition it makes pm_wakeup_pending true, so
// the transition aborts with ErrBusy at the next device and the machine
// resumes. Outside a transition it does nothing.
func WakeupEvent(dev *device.Device) error {
	return do(dev, "pm_wakeup_event", func(in *info) error {
		m := in.m
		m.mu.Lock()
		busy := m.sleep.busy && !m.sleep.asleep
		if busy {
			m.sleep.wakeup = true
		}
		m.mu.Unlock()
		if busy {
			m.emit(KindSleep, dev, "pm_wakeup_event", "wakeup event during the suspend: the transition aborts")
		}
		return nil
	})
}

// ErrAsleep is what Suspend returns on a machine that is asleep or in a
// transition already, and Resume on one that is not asleep: the kernel's
// pm_suspend takes system_transition_mutex.
var ErrAsleep = errors.New("pm: the machine is asleep or in a sleep transition")

// Suspend suspends every device of the machine of h, in the kernel's
// order (suspend_devices_and_enter up to the sleep): dpm_prepare,
// dpm_suspend, dpm_suspend_late, dpm_suspend_noirq. Probing is blocked
// first and stays blocked until Resume. When a callback fails the
// transition is undone, the devices already suspended resumed in order,
// and its error returned; otherwise the machine is asleep until Resume.
// Tasks frozen by the kernel (user space, freezable workqueues) are not
// modelled: drivers and tests keep running.
func Suspend(h env.Host) error {
	m := of(h)
	if m == nil {
		return fmt.Errorf("pm_suspend: no PM core on the machine (pm.Attach): %w", device.ErrInvalid)
	}
	m.mu.Lock()
	if m.sleep.busy {
		m.mu.Unlock()
		return fmt.Errorf("pm_suspend: %w", ErrAsleep)
	}
	m.sleep = sleepState{busy: true}
	m.mu.Unlock()
	m.e.Yield(sched.Point{Kind: "pm_suspend", Func: "pm_suspend"})
	m.emit(KindSleep, nil, "pm_suspend", "PM: suspend entry (deep)")
	m.enter()
	defer m.exit()
	err := m.suspendDevices()
	m.mu.Lock()
	if err != nil {
		m.sleep = sleepState{}
	} else {
		m.sleep.asleep = true
	}
	m.mu.Unlock()
	if err != nil {
		m.emit(KindSleep, nil, "pm_suspend", "PM: Some devices failed to suspend: "+device.ErrnoName(err)+"; PM: suspend exit")
		return err
	}
	m.emit(KindSleep, nil, "suspend_enter", "PM: suspend-to-RAM: the machine sleeps")
	return nil
}

// suspendDevices is the suspend half of suspend_devices_and_enter, with
// its error paths.
func (m *machine) suspendDevices() error {
	if err := m.dpmPrepare(); err != nil {
		m.dpmResumeEnd()
		return err
	}
	if err := m.dpmSuspend(listPrepared, listSuspended, "dpm_suspend", "suspend", func(in *info, async bool) error {
		return in.deviceSuspend(async)
	}); err != nil {
		m.dpmResumeEnd()
		return err
	}
	if err := m.dpmSuspend(listSuspended, listLateEarly, "dpm_suspend_late", "suspend_late", func(in *info, async bool) error {
		return in.deviceSuspendLate(async)
	}); err != nil {
		m.dpmResumeEarly()
		m.dpmResumeEnd()
		return err
	}
	if err := m.dpmSuspend(listLateEarly, listNoirq, "dpm_suspend_noirq", "suspend_noirq", func(in *info, async bool) error {
		return in.deviceSuspendNoirq(async)
	}); err != nil {
		m.dpmResumeNoirq()
		m.dpmResumeEarly()
		m.dpmResumeEnd()
		return err
	}
	return nil
}

// Resume wakes the machine of h up: dpm_resume_noirq, dpm_resume_early,
// dpm_resume and dpm_complete, then probing is unblocked (the devices
// that deferred meanwhile are probed). Errors of resume callbacks are
// reported in the trace and do not stop the others (the kernel only logs
// them); Resume returns the first. A machine that is not asleep gives
// ErrAsleep.
func Resume(h env.Host) error {
	m := of(h)
	if m == nil {
		return fmt.Errorf("pm_resume: no PM core on the machine (pm.Attach): %w", device.ErrInvalid)
	}
	m.mu.Lock()
	if !m.sleep.asleep {
		m.mu.Unlock()
		return fmt.Errorf("pm_resume: not asleep: %w", ErrAsleep)
	}
	m.sleep.asleep = false
	m.sleep.asyncErr = nil
	m.mu.Unlock()
	m.e.Yield(sched.Point{Kind: "pm_suspend", Func: "suspend_enter", Obj: "wakeup"})
	m.emit(KindSleep, nil, "suspend_enter", "PM: wakeup: resuming the devices")
	m.enter()
	defer m.exit()
	first := m.dpmResumeNoirq()
	if err := m.dpmResumeEarly(); first == nil {
		first = err
	}
	if err := m.dpmResumeEnd(); first == nil {
		first = err
	}
	m.mu.Lock()
	m.sleep = sleepState{}
	m.mu.Unlock()
	m.emit(KindSleep, nil, "pm_suspend", "PM: suspend exit")
	return first
}

// SystemSleep is pm_suspend: Suspend then, when it succeeded, Resume
// (the machine woke up at once). It returns Suspend's error, else
// Resume's.
func SystemSleep(h env.Host) error {
	if err := Suspend(h); err != nil {
		return err
	}
	return Resume(h)
}

// dpmPrepare is dpm_prepare: probes in flight are waited for and new ones
// blocked (wait_for_device_probe, device_block_probing); then every device
// of dpm_list, from its head, is prepared and moves to the tail of the
// prepared list. The first error stops the phase, that device staying on
// dpm_list.
func (m *machine) dpmPrepare() error {
	m.emit(KindSleep, nil, "dpm_prepare", "")
	m.core.BlockProbing()
	for {
		m.mu.Lock()
		e := m.dpm.l[listMain].Front()
		if e == nil {
			m.mu.Unlock()
			return nil
		}
		in := e.Value.(*info)
		in.dev.Get()
		m.mu.Unlock()
		err := in.devicePrepare()
		m.mu.Lock()
		if err == nil {
			in.prepared = true
			m.moveLocked(in, listPrepared, false)
		}
		m.mu.Unlock()
		_ = in.dev.Put()
		if err != nil {
			m.emit(KindSleep, in.dev, "dpm_prepare", "PM: Device "+in.dev.Name()+" not prepared for power transition: code "+device.ErrnoName(err))
			return err
		}
	}
}

// dpmSuspend is one suspend phase (dpm_suspend, dpm_suspend_late,
// dpm_suspend_noirq): the devices of list from, from its tail (children
// and consumers first), each moved to the head of list to as its callback
// is done or scheduled; the first error, or an asynchronous callback's,
// stops the phase, whose asynchronous callbacks are waited for
// (async_synchronize_full).
func (m *machine) dpmSuspend(from, to int, fn, what string, dev func(in *info, async bool) error) error {
	m.emit(KindSleep, nil, fn, "")
	m.reinitCompletions(from)
	var err error
	for {
		m.mu.Lock()
		e := m.dpm.l[from].Back()
		if e == nil || m.sleep.asyncErr != nil {
			m.mu.Unlock()
			break
		}
		in := e.Value.(*info)
		async := in.async
		if async || from != listPrepared {
			// dpm_suspend_late moves even a device whose callback fails;
			// an asynchronous one moves when it is scheduled
			m.moveLocked(in, to, true)
		}
		in.dev.Get()
		m.mu.Unlock()
		if async && in.hasCallback(what) && m.spawnAsync(in, "async_"+what, func() error { return dev(in, true) }) {
			_ = in.dev.Put()
			continue
		}
		err = dev(in, false)
		m.mu.Lock()
		if err == nil && from == listPrepared && in.inList && in.which == from {
			m.moveLocked(in, to, true)
		}
		if err != nil && from == listLateEarly && in.inList && in.which == to {
			// dpm_suspend_noirq leaves a failed device where it was
			m.moveLocked(in, from, false)
		}
		m.mu.Unlock()
		_ = in.dev.Put()
		if err != nil {
			m.emit(KindSleep, in.dev, fn, "PM: "+what+" of "+in.dev.Name()+" failed: "+device.ErrnoName(err))
			break
		}
	}
	m.asyncSynchronize(fn)
	if err == nil {
		m.mu.Lock()
		err = m.sleep.asyncErr
		m.mu.Unlock()
	}
	if err == nil {
		m.mu.Lock()
		if m.sleep.wakeup {
			err = fmt.Errorf("%s: wakeup event pending: %w", fn, device.ErrBusy)
		}
		m.mu.Unlock()
	}
	return err
}

// dpmResumeNoirq, dpmResumeEarly and dpmResume are the resume phases:
// asynchronous devices are scheduled first, then the others resumed in
// list order, from its head, each moving to the tail of the previous
// list.
func (m *machine) dpmResumeNoirq() error {
	return m.dpmResumePhase(listNoirq, listLateEarly, "dpm_resume_noirq", "resume_noirq", (*info).deviceResumeNoirq)
}

func (m *machine) dpmResumeEarly() error {
	return m.dpmResumePhase(listLateEarly, listSuspended, "dpm_resume_early", "resume_early", (*info).deviceResumeEarly)
}

// dpmResumeEnd is dpm_resume_end: dpm_resume, then dpm_complete.
func (m *machine) dpmResumeEnd() error {
	err := m.dpmResumePhase(listSuspended, listPrepared, "dpm_resume", "resume", (*info).deviceResume)
	m.dpmComplete()
	return err
}

func (m *machine) dpmResumePhase(from, to int, fn, what string, dev func(in *info, async bool) error) error {
	m.emit(KindSleep, nil, fn, "")
	m.reinitCompletions(from)
	m.mu.Lock()
	m.sleep.asyncErr = nil
	var asyncs []*info
	for e := m.dpm.l[from].Front(); e != nil; e = e.Next() {
		if in := e.Value.(*info); in.async && in.hasCallback(what) {
			asyncs = append(asyncs, in)
		}
	}
	m.mu.Unlock()
	var first error
	for _, in := range asyncs {
		in := in
		in.dev.Get()
		if !m.spawnAsync(in, "async_"+what, func() error { return dev(in, true) }) {
			in.mu.Lock()
			in.asyncTask = false
			in.mu.Unlock()
		}
		_ = in.dev.Put()
	}
	for {
		m.mu.Lock()
		e := m.dpm.l[from].Front()
		if e == nil {
			m.mu.Unlock()
			break
		}
		in := e.Value.(*info)
		m.moveLocked(in, to, false)
		in.dev.Get()
		m.mu.Unlock()
		in.mu.Lock()
		scheduled := in.asyncTask
		in.mu.Unlock()
		if !scheduled {
			if err := dev(in, false); err != nil {
				m.emit(KindSleep, in.dev, fn, "PM: "+what+" of "+in.dev.Name()+" failed: "+device.ErrnoName(err))
				if first == nil {
					first = err
				}
			}
		}
		_ = in.dev.Put()
	}
	m.asyncSynchronize(fn)
	m.mu.Lock()
	if first == nil {
		first = m.sleep.asyncErr
	}
	m.mu.Unlock()
	return first
}

// dpmComplete is dpm_complete: every device of the prepared list, from
// its tail (children first), gets its complete callback and back to
// dpm_list, in its old order; then probing is unblocked.
func (m *machine) dpmComplete() {
	m.emit(KindSleep, nil, "dpm_complete", "")
	var back []*info
	for {
		m.mu.Lock()
		e := m.dpm.l[listPrepared].Back()
		if e == nil {
			m.mu.Unlock()
			break
		}
		in := e.Value.(*info)
		m.dpm.l[listPrepared].Remove(e)
		in.elem, in.inList = nil, false
		in.prepared = false
		back = append(back, in)
		in.dev.Get()
		m.mu.Unlock()
		in.deviceComplete()
		_ = in.dev.Put()
	}
	m.mu.Lock()
	for _, in := range back { // list_splice(&list, &dpm_list): the head, in order
		if in.elem == nil && in.dev.IsRegistered() {
			in.elem = m.dpm.l[listMain].PushFront(in)
			in.which, in.inList = listMain, true
		}
	}
	m.mu.Unlock()
	m.core.UnblockProbing()
}

// reinitCompletions re-arms the completion of every device on list l
// before a phase (reinit_completion in dpm_async_fn and the phase loops).
func (m *machine) reinitCompletions(l int) {
	m.mu.Lock()
	var ins []*info
	for e := m.dpm.l[l].Front(); e != nil; e = e.Next() {
		in := e.Value.(*info)
		in.asyncTask = false
		ins = append(ins, in)
	}
	m.mu.Unlock()
	for _, in := range ins {
		in.done.Reinit()
	}
}

// spawnAsync is async_schedule_dev for a device's callback of a phase:
// under a simulator, a task of its own; it reports false in the plain
// environment (the caller runs the callback itself, in list order, which
// the waits of an asynchronous callback allow). The callback's error is
// the transition's async_error.
func (m *machine) spawnAsync(in *info, name string, fn func() error) bool {
	if !m.e.Simulated() {
		return false
	}
	m.mu.Lock()
	m.sleep.async++
	m.mu.Unlock()
	in.mu.Lock()
	in.asyncTask = true
	in.mu.Unlock()
	in.dev.Get()
	done := func() {
		_ = in.dev.Put()
		m.mu.Lock()
		m.sleep.async--
		m.mu.Unlock()
		m.asyncQ().WakeAll()
	}
	ok := m.e.Spawn(name, func() {
		defer done()
		m.enter()
		defer m.exit()
		if err := fn(); err != nil {
			m.mu.Lock()
			if m.sleep.asyncErr == nil {
				m.sleep.asyncErr = err
			}
			m.mu.Unlock()
		}
	}, func() {
		in.done.CompleteAll()
		done()
	})
	if !ok {
		in.mu.Lock()
		in.asyncTask = false
		in.mu.Unlock()
		done()
	}
	return ok
}

// asyncQ is the queue async_synchronize_full waits on.
func (m *machine) asyncQ() *kernel.WaitQueue {
	return m.e.Local(asyncKey{}, func() any { return kernel.NewWaitQueue(m.e, "async_synchronize_full") }).(*kernel.WaitQueue)
}

type asyncKey struct{}

// asyncSynchronize is async_synchronize_full at the end of a phase.
func (m *machine) asyncSynchronize(fn string) {
	m.asyncQ().Wait(fn+": async_synchronize_full", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.sleep.async == 0
	})
}

// asyncError reports the transition's async_error.
func (m *machine) asyncError() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sleep.asyncErr
}

// wakeupPending is pm_wakeup_pending.
func (m *machine) wakeupPending() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sleep.wakeup
}

// waitSubordinates is dpm_wait_for_subordinate: the completions of the
// children and of the consumers of device links, for those that are
// asynchronous (or all, from an asynchronous caller).
func (in *info) waitSubordinates(async bool) {
	for _, ch := range in.dev.Children() {
		in.m.dpmWait(ch, async)
	}
	for _, l := range in.dev.Consumers() {
		in.m.dpmWait(l.Consumer, async)
	}
}

// waitSuperiors is dpm_wait_for_superior: the parent's completion and the
// suppliers'; false when the device was removed meanwhile.
func (in *info) waitSuperiors(async bool) bool {
	m := in.m
	m.mu.Lock()
	listed := in.inList
	m.mu.Unlock()
	if !listed {
		return false
	}
	if p := in.dev.Parent(); p != nil {
		m.dpmWait(p, async)
	}
	for _, l := range in.dev.Suppliers() {
		m.dpmWait(l.Supplier, async)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return in.inList
}

// dpmWait is dpm_wait.
func (m *machine) dpmWait(dev *device.Device, async bool) {
	other := m.infoOf(dev)
	m.mu.Lock()
	wait := async || other.async
	m.mu.Unlock()
	if wait {
		other.done.Wait()
	}
}

// lookupSleep returns the callback of a system-sleep step: the class's or
// the bus's PMOps, else the driver's.
func (in *info) lookupSleep(pick func(*device.PMOps) func(*device.Device) error) (func(*device.Device) error, string) {
	return callbackOf(in.dev, pick)
}

// runCallback is dpm_run_callback: a schedule point, the callback under
// recover (an oops is its error), its result traced.
func (in *info) runCallback(step string, pick func(*device.PMOps) func(*device.Device) error) (err error) {
	cb, who := in.lookupSleep(pick)
	if cb == nil {
		return nil
	}
	m := in.m
	m.emit(KindSleep, in.dev, "dpm_run_callback", step+" ("+who+")")
	m.e.Yield(sched.Point{Kind: "dpm", Func: step, Obj: in.dev.Path()})
	w := env.Watched{What: step, Func: "dpm_run_callback", Dev: in.dev.Path(), Driver: in.dev.DriverName()}
	wt := m.e.Watch(w)
	defer wt.Done()
	defer func() {
		if v := recover(); v != nil {
			err = m.e.Oops(v, env.OopsSite{Func: w.Func, Callback: w.What, Dev: w.Dev, Driver: w.Driver})
		}
		if err != nil {
			m.emit(KindSleep, in.dev, "dpm_run_callback", step+" returns "+device.ErrnoName(err))
		}
	}()
	return cb(in.dev)
}

// devicePrepare is device_prepare: a usage-count hold (runtime suspends
// are refused from now until device_complete), then the prepare callback
// under the device lock.
func (in *info) devicePrepare() error {
	m := in.m
	m.emit(KindSleep, in.dev, "device_prepare", "")
	in.mu.Lock()
	in.usage++ // pm_runtime_get_noresume
	in.mu.Unlock()
	if err := in.dev.Lock(); err != nil {
		_ = in.idle(flagGetPut|flagAsync, "pm_runtime_put")
		return err
	}
	err := in.runCallback("prepare", func(o *device.PMOps) func(*device.Device) error { return o.Prepare })
	_ = in.dev.Unlock()
	if err != nil {
		_ = in.idle(flagGetPut|flagAsync, "pm_runtime_put")
		return err
	}
	in.mu.Lock()
	in.completeOK = true
	in.mu.Unlock()
	return nil
}

// deviceSuspend is device_suspend (__device_suspend).
func (in *info) deviceSuspend(async bool) (err error) {
	m := in.m
	defer in.done.CompleteAll()
	in.waitSubordinates(async)
	if m.asyncError() != nil {
		return nil
	}
	m.emit(KindSleep, in.dev, "device_suspend", asyncNote(async))
	in.barrier("pm_runtime_barrier")
	if m.wakeupPending() {
		err = fmt.Errorf("device_suspend %s: wakeup event pending: %w", in.dev.Path(), device.ErrBusy)
		m.setAsyncErr(err)
		return err
	}
	if err := in.dev.Lock(); err != nil {
		return err
	}
	err = in.runCallback("suspend", func(o *device.PMOps) func(*device.Device) error { return o.Suspend })
	if err == nil {
		m.mu.Lock()
		in.suspended = true
		m.mu.Unlock()
	}
	_ = in.dev.Unlock()
	if err != nil && async {
		m.setAsyncErr(err)
	}
	return err
}

// deviceSuspendLate is device_suspend_late: runtime PM is disabled for
// the device first, whatever happens next.
func (in *info) deviceSuspendLate(async bool) (err error) {
	m := in.m
	defer in.done.CompleteAll()
	in.disable(false, "__pm_runtime_disable")
	in.waitSubordinates(async)
	if m.asyncError() != nil {
		return nil
	}
	m.emit(KindSleep, in.dev, "device_suspend_late", asyncNote(async))
	if m.wakeupPending() {
		err = fmt.Errorf("device_suspend_late %s: wakeup event pending: %w", in.dev.Path(), device.ErrBusy)
		m.setAsyncErr(err)
		return err
	}
	err = in.runCallback("suspend_late", func(o *device.PMOps) func(*device.Device) error { return o.SuspendLate })
	if err != nil {
		m.setAsyncErr(err)
		return err
	}
	m.mu.Lock()
	in.late = true
	m.mu.Unlock()
	return nil
}

// deviceSuspendNoirq is device_suspend_noirq.
func (in *info) deviceSuspendNoirq(async bool) (err error) {
	m := in.m
	defer in.done.CompleteAll()
	in.waitSubordinates(async)
	if m.asyncError() != nil {
		return nil
	}
	m.emit(KindSleep, in.dev, "device_suspend_noirq", asyncNote(async))
	if m.wakeupPending() {
		err = fmt.Errorf("device_suspend_noirq %s: wakeup event pending: %w", in.dev.Path(), device.ErrBusy)
		m.setAsyncErr(err)
		return err
	}
	err = in.runCallback("suspend_noirq", func(o *device.PMOps) func(*device.Device) error { return o.SuspendNoirq })
	if err != nil {
		m.setAsyncErr(err)
		return err
	}
	m.mu.Lock()
	in.noirq = true
	m.mu.Unlock()
	return nil
}

// deviceResumeNoirq is device_resume_noirq: the callback only for a
// device whose suspend_noirq ran, once its parent and suppliers are done.
func (in *info) deviceResumeNoirq(async bool) (err error) {
	m := in.m
	defer in.done.CompleteAll()
	m.mu.Lock()
	was := in.noirq
	m.mu.Unlock()
	if !was || !in.waitSuperiors(async) {
		return nil
	}
	m.emit(KindSleep, in.dev, "device_resume_noirq", asyncNote(async))
	err = in.runCallback("resume_noirq", func(o *device.PMOps) func(*device.Device) error { return o.ResumeNoirq })
	m.mu.Lock()
	in.noirq = false
	m.mu.Unlock()
	return err
}

// deviceResumeEarly is device_resume_early: the callback only for a
// device whose suspend_late ran; runtime PM is enabled again in any case.
func (in *info) deviceResumeEarly(async bool) (err error) {
	m := in.m
	defer in.done.CompleteAll()
	defer in.enable("pm_runtime_enable")
	m.mu.Lock()
	was := in.late
	m.mu.Unlock()
	if !was || !in.waitSuperiors(async) {
		return nil
	}
	m.emit(KindSleep, in.dev, "device_resume_early", asyncNote(async))
	err = in.runCallback("resume_early", func(o *device.PMOps) func(*device.Device) error { return o.ResumeEarly })
	m.mu.Lock()
	in.late = false
	m.mu.Unlock()
	return err
}

// deviceResume is device_resume: the callback under the device lock, only
// for a device whose suspend ran.
func (in *info) deviceResume(async bool) (err error) {
	m := in.m
	defer in.done.CompleteAll()
	if !in.waitSuperiors(async) {
		return nil
	}
	if err := in.dev.Lock(); err != nil {
		return err
	}
	defer func() { _ = in.dev.Unlock() }()
	m.mu.Lock()
	in.prepared = false // "a fib": children may be added below a resumed device
	was := in.suspended
	m.mu.Unlock()
	if !was {
		return nil
	}
	m.emit(KindSleep, in.dev, "device_resume", asyncNote(async))
	err = in.runCallback("resume", func(o *device.PMOps) func(*device.Device) error { return o.Resume })
	m.mu.Lock()
	in.suspended = false
	m.mu.Unlock()
	return err
}

// deviceComplete is device_complete: the complete callback under the
// device lock, then the usage-count hold of device_prepare dropped
// (pm_runtime_put).
func (in *info) deviceComplete() {
	m := in.m
	in.mu.Lock()
	owed := in.completeOK
	in.completeOK = false
	in.mu.Unlock()
	m.emit(KindSleep, in.dev, "device_complete", "")
	if err := in.dev.Lock(); err == nil {
		cb, who := in.lookupSleep(func(o *device.PMOps) func(*device.Device) error {
			if o.Complete == nil {
				return nil
			}
			return func(d *device.Device) error { o.Complete(d); return nil }
		})
		if cb != nil {
			m.emit(KindSleep, in.dev, "dpm_run_callback", "complete ("+who+")")
			func() {
				defer func() {
					if v := recover(); v != nil {
						m.e.Oops(v, env.OopsSite{Func: "device_complete", Callback: "complete", Dev: in.dev.Path(), Driver: in.dev.DriverName()})
					}
				}()
				_ = cb(in.dev)
			}()
		}
		_ = in.dev.Unlock()
	}
	if owed {
		_ = in.idle(flagGetPut|flagAsync, "pm_runtime_put")
	}
}

// hasCallback reports whether the device has a callback for the phase
// step. An asynchronous device without one is done by the task walking
// the list, in its turn, instead of a task of its own: the kernel
// schedules it all the same, but with nothing to call the only effect is
// its completion, which the walk gives in an order the waits allow, and
// the explorer has fewer tasks to interleave.
func (in *info) hasCallback(step string) bool {
	cb, _ := in.lookupSleep(func(o *device.PMOps) func(*device.Device) error {
		switch step {
		case "suspend":
			return o.Suspend
		case "suspend_late":
			return o.SuspendLate
		case "suspend_noirq":
			return o.SuspendNoirq
		case "resume_noirq":
			return o.ResumeNoirq
		case "resume_early":
			return o.ResumeEarly
		case "resume":
			return o.Resume
		}
		return nil
	})
	return cb != nil
}

// setAsyncErr records the transition's first error (async_error).
func (m *machine) setAsyncErr(err error) {
	m.mu.Lock()
	if m.sleep.asyncErr == nil {
		m.sleep.asyncErr = err
	}
	m.mu.Unlock()
}

func asyncNote(async bool) string {
	if async {
		return "async"
	}
	return ""
}
