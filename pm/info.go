package pm

import (
	"sync"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/kernel"
)

// Status is a device's runtime PM status (enum rpm_status).
type Status int

// Runtime PM statuses.
const (
	// Active is RPM_ACTIVE: the device is powered and usable.
	Active Status = iota
	// Resuming is RPM_RESUMING: its runtime_resume callback runs.
	Resuming
	// Suspended is RPM_SUSPENDED: the device is in a low-power state (or,
	// runtime PM being disabled, not known to be usable). Every device
	// starts so (pm_runtime_init).
	Suspended
	// Suspending is RPM_SUSPENDING: its runtime_suspend callback runs.
	Suspending
)

var statusNames = [...]string{"active", "resuming", "suspended", "suspending"}

// String returns the status as sysfs's power/runtime_status shows it,
// e.g. "active".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// request is enum rpm_request: what pm_runtime_work is to do.
type request int

const (
	reqNone request = iota
	reqIdle
	reqSuspend
	reqAutosuspend
	reqResume
)

// flags are the RPM_* flags of rpm_idle, rpm_suspend and rpm_resume.
type flags int

const (
	flagAsync  flags = 1 << iota // RPM_ASYNC: queue a request on pm_wq
	flagNowait                   // RPM_NOWAIT: do not wait for a transition in progress
	flagGetPut                   // RPM_GET_PUT: change the usage count first
	flagAuto                     // RPM_AUTO: use the autosuspend delay
)

func (f flags) String() string {
	s := ""
	for _, x := range []struct {
		f flags
		n string
	}{{flagAsync, "ASYNC"}, {flagNowait, "NOWAIT"}, {flagGetPut, "GET_PUT"}, {flagAuto, "AUTO"}} {
		if f&x.f != 0 {
			if s != "" {
				s += "|"
			}
			s += x.n
		}
	}
	if s == "" {
		return "0"
	}
	return s
}

// info is struct dev_pm_info (dev->power): one device's runtime PM state
// and its part in system sleep. mu is power.lock: the rpm_* functions are
// called with it held and drop it around callbacks, waits and the parent's
// state, as the kernel's do. It is never held across a schedule point.
type info struct {
	dev *device.Device
	m   *machine
	q   *kernel.WaitQueue // power.wait_queue

	mu sync.Mutex

	// runtime PM
	status, lastStatus Status
	usage              int // usage_count
	children           int // child_count: active children
	disableDepth       int
	runtimeErr         error // runtime_error: sticky until set_active/set_suspended
	ignoreChildren     bool
	noCallbacks        bool
	runtimeAuto        bool // power/control "auto"; forbid clears it
	useAutosuspend     bool
	delay              time.Duration // autosuspend_delay
	lastBusy           time.Duration
	req                request
	requestPending     bool
	deferredResume     bool
	idleNotification   bool
	timerExpires       time.Duration // 0: the suspend timer is not armed
	timerAutosuspends  bool
	timer              *kernel.Timer
	work               *kernel.Work // simulator: the item on pm_wq
	queued             bool         // plain environment: on the machine's queue
	linksCount         int          // DL_FLAG_PM_RUNTIME links to suppliers
	rpmActive          map[*device.Link]int
	preactivated       map[*device.Link]bool
	traced             bool   // runtime PM was enabled once: its events are recorded
	entryFn, entryMsg  string // the held-back start of an rpm_* function (openEntry)
	pendingQueue       bool   // queue_work to do once power.lock is dropped
	timerSet           bool   // the timer may need arming or disarming (syncTimer)

	// system sleep
	sleepInfo
}

// infoOf returns dev's dev_pm_info, initialized as pm_runtime_init does:
// suspended, runtime PM disabled once, no usage.
func (m *machine) infoOf(dev *device.Device) *info {
	return dev.Core().Power(func() any {
		in := &info{dev: dev, m: m, status: Suspended, lastStatus: Suspended, disableDepth: 1, runtimeAuto: true}
		in.q = kernel.NewWaitQueue(m.e, "rpm "+dev.Name())
		in.timer = kernel.NewTimer(m.e, "suspend_timer."+dev.Name(), in.timerFn)
		in.sleepInfo.init(m, dev)
		return in
	}).(*info)
}

// workItem returns the device's pm_wq item (dev->power.work), made on
// first use.
func (in *info) workItem() *kernel.Work {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.work == nil {
		in.work = kernel.NewWork(in.m.e, "pm_runtime_work "+in.dev.Name(), func(*kernel.Work) {
			in.m.enter()
			defer in.m.exit()
			in.work1()
		})
	}
	return in.work
}

// runWork is pm_runtime_work in the plain environment.
func (in *info) runWork() { in.work1() }

// unlocked runs fn with in.mu dropped (the kernel's spin_unlock ...
// spin_lock around a call that may sleep or take another lock), after
// the deferred actions (settle).
func (in *info) unlocked(fn func()) {
	in.mu.Unlock()
	defer in.mu.Lock()
	in.settle()
	fn()
}

// settle does, with in.mu not held, what the rpm_* functions decided
// under it and the kernel does under power.lock: queueing the device's
// work on pm_wq and arming or disarming its suspend timer. Both are
// schedule points in drvsim's kernel library, which must not be taken
// with a lock held; pm_runtime_work and the timer's callback look at the
// state under the lock, so doing them a little later changes nothing
// they decide.
func (in *info) settle() {
	in.mu.Lock()
	q := in.pendingQueue
	in.pendingQueue = false
	t := in.timerSet
	in.timerSet = false
	expires := in.timerExpires
	in.mu.Unlock()
	if q {
		in.m.queueWork(in)
	}
	if t {
		if expires > 0 {
			in.timer.Mod(expires)
		} else {
			in.timer.Delete()
		}
	}
}
