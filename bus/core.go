package bus

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// DefaultDeferredProbeTimeout is the kernel's default
// driver_deferred_probe_timeout (10 seconds), measured on the Core's
// simulated clock from NewCore.
const DefaultDeferredProbeTimeout = 10 * time.Second

// Core is one simulated driver core: the state drivers/base keeps in global
// variables (the bus list, devices_kset, the deferred-probe lists and
// trigger count, probe_count, the async domain) kept per instance, so that
// two Cores never see each other. Create it with NewCore and stop its
// worker with Close. All methods are safe for concurrent use.
type Core struct {
	env *env.Env
	log *trace.Log

	mu       sync.Mutex
	cond     *sync.Cond // signalled on async-queue, depth and worker changes
	buses    map[string]*Bus
	busOrder []*Bus
	devices  dlist[*devPriv]     // devices_kset: registration order, reordered by links
	paths    map[string]struct{} // sysfs paths of the registered devices (kernfs's directory names)
	devSeq   uint64
	nodes    map[string]DevNode // devtmpfs: /dev (devtmpfs.go)

	// deferred probe (dd.c)
	pending, active dlist[*devPriv]
	triggerCount    uint64
	deferAll        bool // defer_all_probes (device_block_probing)
	depth           int  // top-level operations in flight
	deferredRunning bool

	// deferred-probe timeout on the environment's clock
	timeout      time.Duration
	deadline     time.Duration // 0: not armed
	timeoutFired bool

	// async probe
	queue      []asyncJob
	qhead      int
	asyncBusy  bool
	kick       int
	concurrent bool
	closed     bool
	wg         sync.WaitGroup
	workerID   uint64
	started    bool       // the worker goroutine was started (startWorkerLocked)
	tasks      asyncTasks // async probes running as scheduler tasks (async.go)

	attempts atomic.Uint64
	probing  []inflight        // the probes in flight, in order of start
	asyncRun map[env.Owner]int // tasks running an asynchronous probe job (runJob)
}

// devPriv is struct device_private: the core's per-device state (dev->p).
type devPriv struct {
	dev         *device.Device
	core        *Core
	bus         *Bus
	seq         uint64
	globalNode  node[*devPriv] // devices_kset
	busNode     node[*devPriv] // knode_bus
	drvNode     node[*devPriv] // knode_driver
	deferNode   node[*devPriv] // deferred_probe
	deleted     bool
	asyncQueued bool // an asynchronous driver attach is pending (dev->p->async_driver)
	canMatch    bool // a driver matched once (dev->can_match)

	// probe deferral loop detection (driverProbeDevice)
	selfTriggered bool // the running probe's task triggered the deferred list
	deferLoops    int  // self-triggered deferrals in a row
	loopReported  bool
}

// drvPriv is struct driver_private.
type drvPriv struct {
	drv        *driver.Driver
	core       *Core
	bus        *Bus
	devices    dlist[*devPriv] // klist_devices: bound devices
	count      int
	registered bool     // on its bus's driver list (driver_register until bus_remove_driver)
	detaching  bool     // driver_detach has waited for the async domain and walks the devices
	probers    []prober // tasks with a probe of this driver in flight
}

// inflight is a probe in flight: the task running it and the device.
type inflight struct {
	owner env.Owner
	p     *devPriv
}

// prober is a task with a probe in flight; async when it runs an
// asynchronous probe job (driver_detach's async_synchronize_full waits for
// those).
type prober struct {
	env.Holder
	async bool
}

// NewCore returns an empty driver core in the environment e (nil: a fresh
// plain one): devices it initializes live in e, and it traces into e's
// log; CoreOf finds it from anything of e's machine. drvsim.NewSystem is
// the usual way to get one. Its async-probe worker goroutine starts with
// the first asynchronous probe queued for it and runs until Close; under
// a simulator, where asynchronous probes are tasks, it never starts
// (unless a probe is queued after the run), so a Core built there leaves
// no goroutine behind.
func NewCore(e *env.Env) *Core {
	if e == nil {
		e = env.New()
	}
	c := &Core{
		env:      e,
		log:      e.Log(),
		buses:    make(map[string]*Bus),
		nodes:    make(map[string]DevNode),
		paths:    make(map[string]struct{}),
		asyncRun: make(map[env.Owner]int),
		timeout:  DefaultDeferredProbeTimeout,
		deadline: e.Now() + DefaultDeferredProbeTimeout,
	}
	c.cond = sync.NewCond(&c.mu)
	machineCore(e).CompareAndSwap(nil, c)
	return c
}

// coreKey is the env.Env.Local key of a machine's driver core.
type coreKey struct{}

// machineCore is the environment's slot for its driver core.
func machineCore(e *env.Env) *atomic.Pointer[Core] {
	return e.Local(coreKey{}, func() any { return new(atomic.Pointer[Core]) }).(*atomic.Pointer[Core])
}

// CoreOf returns the driver core of the machine h belongs to (a device, a
// subsystem, the machine's environment): the first Core built on that
// environment, or nil when there is none. The kernel has one driver core;
// this is how code handed only a device or an environment reaches it.
func CoreOf(h env.Host) *Core {
	if h == nil {
		return nil
	}
	e := h.Env()
	if e == nil {
		return nil
	}
	return machineCore(e).Load()
}

// Close stops the async-probe worker (queued probes that never ran are
// dropped, with a trace note) and waits for it to exit. Probes that would
// be asynchronous run synchronously afterwards. Close is idempotent.
// Asynchronous probes running as simulator tasks (see WaitForProbes) are
// not waited for: a task that starts after Close drops its probe the same
// way.
func (c *Core) Close() {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	c.wg.Wait()
}

// Env returns the core's environment, where its devices live; it makes a
// Core an env.Host.
func (c *Core) Env() *env.Env { return c.env }

// DriverCore returns c itself: a Core is a Machine.
func (c *Core) DriverCore() *Core { return c }

// Machine is anything built around one driver core: a *Core, a
// drvsim.System. Subsystems attach to one (usbsim.Init, drmsim.NewClass).
type Machine interface {
	env.Host
	// DriverCore returns the machine's driver core.
	DriverCore() *Core
}

// Log returns the trace log of the core's environment.
func (c *Core) Log() *trace.Log { return c.log }

// ProbeAttempts returns how many times a probe callback was called (or
// failed by injection): a cost measure for deferred-probe chains.
func (c *Core) ProbeAttempts() uint64 { return c.attempts.Load() }

func (c *Core) emit(kind trace.Kind, dev, fn, msg string) {
	c.log.Emit(trace.Event{Kind: kind, Dev: dev, Func: fn, Msg: msg})
}

// enter and exit bracket every top-level operation. The last operation to
// leave runs the deferred-probe worker inline (deferred_probe_work_func), so
// that in the synchronous default a trigger is served before the top-level
// call returns, and never from inside a probe. The bracket is also a
// postponed stretch of the environment (env.Env.PostponeBegin): an oops
// inside the operation fails a simulated run only when exit is done.
// exit is always deferred, and keeps the depth right even when a
// simulated run unwinds the task through it.
func (c *Core) enter() {
	c.env.PostponeBegin()
	c.mu.Lock()
	c.depth++
	c.mu.Unlock()
}

func (c *Core) exit() {
	defer c.env.PostponeEnd() // last: under a simulator it may unwind the task
	defer func() {
		c.mu.Lock()
		c.depth--
		c.cond.Broadcast()
		c.mu.Unlock()
	}()
	for c.claimDeferredWork() {
		c.runDeferredWork()
	}
}

// claimDeferredWork reports whether the caller, the last top-level
// operation, should run the deferred-probe worker, and marks it running.
func (c *Core) claimDeferredWork() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.depth == 1 && !c.deferredRunning && !c.active.empty() {
		c.deferredRunning = true
		return true
	}
	return false
}

func (c *Core) runDeferredWork() {
	defer func() {
		c.mu.Lock()
		c.deferredRunning = false
		c.mu.Unlock()
	}()
	c.deferredProbeWork()
}

// RegisterBus is bus_register. A bus needs a name unique in the Core, and
// its name and DevRoot must be valid sysfs names (device.ValidateName); a
// *Bus can be registered in one Core only.
func (c *Core) RegisterBus(b *Bus) error {
	if b == nil {
		return fmt.Errorf("bus_register: nil bus: %w", device.ErrInvalid)
	}
	if err := device.ValidateName("bus_register", b.Name); err != nil {
		return err
	}
	if b.DevRoot != "" {
		if err := device.ValidateName("bus_register "+b.Name+": DevRoot", b.DevRoot); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if b.p != nil {
		c.mu.Unlock()
		return fmt.Errorf("bus_register %q: already registered: %w", b.Name, device.ErrExist)
	}
	if _, dup := c.buses[b.Name]; dup {
		c.mu.Unlock()
		return fmt.Errorf("bus_register %q: a bus of that name exists: %w", b.Name, device.ErrExist)
	}
	b.p = &busPriv{core: c, byName: make(map[string]*devPriv), drvByName: make(map[string]*drvPriv)}
	c.buses[b.Name] = b
	c.busOrder = append(c.busOrder, b)
	c.mu.Unlock()
	c.emit(trace.BusAdd, b.Path(), "bus_register", "")
	return nil
}

// UnregisterBus is bus_unregister. A bus that still has devices or drivers
// is refused with ErrBusy.
func (c *Core) UnregisterBus(b *Bus) error {
	c.mu.Lock()
	if b == nil || b.p == nil || b.p.core != c {
		c.mu.Unlock()
		return fmt.Errorf("bus_unregister: unknown bus: %w", device.ErrNoEntry)
	}
	if len(b.p.byName) > 0 || len(b.p.drivers) > 0 {
		c.mu.Unlock()
		return fmt.Errorf("bus_unregister %q: devices or drivers still registered: %w", b.Name, device.ErrBusy)
	}
	delete(c.buses, b.Name)
	for i, x := range c.busOrder {
		if x == b {
			c.busOrder = append(c.busOrder[:i], c.busOrder[i+1:]...)
			break
		}
	}
	b.p = nil
	c.mu.Unlock()
	c.emit(trace.BusAdd, b.Path(), "bus_unregister", "")
	return nil
}

// Bus returns the registered bus of that name, or nil.
func (c *Core) Bus(name string) *Bus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buses[name]
}

// FindDevice is bus_find_device_by_name: the registered device of that name
// on the named bus, or nil.
func (c *Core) FindDevice(busName, name string) *device.Device {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.buses[busName]; b != nil {
		if p := b.p.byName[name]; p != nil {
			return p.dev
		}
	}
	return nil
}

// FindDriver is driver_find: the registered driver of that name on the
// named bus, or nil.
func (c *Core) FindDriver(busName, name string) *driver.Driver {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.buses[busName]; b != nil {
		if p := b.p.drvByName[name]; p != nil {
			return p.drv
		}
	}
	return nil
}

// Devices returns the registered devices in devices_kset order: order of
// registration, with consumers moved after their suppliers by device links.
func (c *Core) Devices() []*device.Device {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*device.Device
	for _, p := range c.devices.values() {
		out = append(out, p.dev)
	}
	return out
}

// BusDevices returns the devices of the named bus in registration order.
func (c *Core) BusDevices(busName string) []*device.Device {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*device.Device
	if b := c.buses[busName]; b != nil {
		for _, p := range b.p.devices.values() {
			out = append(out, p.dev)
		}
	}
	return out
}

// Drivers returns the drivers of the named bus in registration order.
func (c *Core) Drivers(busName string) []*driver.Driver {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*driver.Driver
	if b := c.buses[busName]; b != nil {
		for _, p := range b.p.drivers {
			out = append(out, p.drv)
		}
	}
	return out
}

// BoundDevices returns the devices bound to drv, in order of binding
// (the driver's klist_devices).
func (c *Core) BoundDevices(drv *driver.Driver) []*device.Device {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*device.Device
	if dp := c.drvPrivOf(drv); dp != nil {
		for _, p := range dp.devices.values() {
			out = append(out, p.dev)
		}
	}
	return out
}

// devPrivOf returns dev's core data if dev is registered in this core.
func (c *Core) devPrivOf(dev *device.Device) *devPriv {
	if dev == nil {
		return nil
	}
	p, _ := dev.Core().Private().(*devPriv)
	if p == nil || p.core != c {
		return nil
	}
	return p
}

func (c *Core) drvPrivOf(drv *driver.Driver) *drvPriv {
	if drv == nil {
		return nil
	}
	p, _ := drv.Private().(*drvPriv)
	if p == nil || p.core != c {
		return nil
	}
	return p
}

// boundDriver returns the *driver.Driver bound to dev, or nil.
func boundDriver(dev *device.Device) *driver.Driver {
	d, _ := dev.Driver().(*driver.Driver)
	return d
}
