// Package deferral rebuilds the deferred probing of the 2014 driver core
// (drivers/base/dd.c, v3.14) twice: before commit 58b116bce136
// ("drivercore: deferral race condition fix", Grant Likely, 2014) and
// after it, with the kernel library's mutex and workqueue and the same
// calls in the same order. drvsim's own driver core (package bus) has the
// fix; this package keeps the code of the time, the way the design lab
// (revocable/kernelmodel) keeps the revocable code it studies.
//
// A device whose probe returns -EPROBE_DEFER goes on the pending list;
// every successful probe triggers the deferred probe: the pending list
// moves to the active list and the deferred-probe work retries those
// devices. Before the fix, a supplier that bound while a consumer was
// deferring (after the consumer's probe found it missing, before the
// consumer was on the pending list) triggered an empty list, and nothing
// triggered again: the consumer stayed deferred for good. The fix counts
// triggers (deferred_trigger_count): really_probe reads the count first,
// and if it moved by the time the device is on the pending list, it
// triggers once more.
package deferral

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// Variant is the driver core before or after the fix.
type Variant int

// The variants.
const (
	// Before: a trigger during a probe that defers is lost.
	Before Variant = iota
	// After: really_probe re-triggers when the trigger count moved.
	After
)

// Driver is struct device_driver, reduced to its probe.
type Driver struct {
	Name  string
	Probe func(dev *Device) error
}

// Device is struct device with its device_private: its lock, its driver
// once bound, and its node on the deferred lists.
type Device struct {
	Name string
	// Driver is the one driver of the bus that matches the device (what
	// bus_probe_device's walk of the bus's drivers finds).
	Driver *Driver

	lock *kernel.Mutex // device_lock

	mu       sync.Mutex
	bound    bool // dev->driver set by driver_bound
	deferred bool // on the pending or the active list
}

// Core is the deferred-probe machinery of one machine: the lists and
// their mutex, the trigger count (after the fix), the workqueue.
type Core struct {
	v     Variant
	e     *env.Env
	mutex *kernel.Mutex // deferred_probe_mutex
	wq    *kernel.Workqueue
	work  *kernel.Work // deferred_probe_work

	lists        sync.Mutex   // the list heads (under deferred_probe_mutex in the kernel)
	pending      []*Device    // deferred_probe_pending_list
	active       []*Device    // deferred_probe_active_list
	triggerCount atomic.Int32 // deferred_trigger_count (after the fix)
	probeEnabled bool         // driver_deferred_probe_enable
}

// NewCore returns the driver core of variant v in h's machine, after its
// late initcall (deferred_probe_initcall: the "deferwq" workqueue
// allocated, deferred probing enabled).
func NewCore(h env.Host, v Variant) (*Core, error) {
	e := env.Of(h)
	c := &Core{v: v, e: e, mutex: kernel.NewMutex(e, "deferred_probe_mutex")}
	wq, err := kernel.AllocOrderedWorkqueue(e, "deferwq", 0) // create_singlethread_workqueue
	if err != nil {
		return nil, err
	}
	c.wq = wq
	c.work = kernel.NewWork(e, "deferred_probe_work", func(*kernel.Work) { c.workFunc() })
	c.probeEnabled = true
	return c, nil
}

// NewDevice returns a device of the core driven by drv.
func (c *Core) NewDevice(name string, drv *Driver) *Device {
	return &Device{Name: name, Driver: drv, lock: kernel.NewMutex(c.e, "device_lock "+name)}
}

// Bound reports whether dev has a driver (dev->driver != NULL).
func (d *Device) Bound() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bound
}

func (c *Core) emit(kind trace.Kind, dev *Device, fn, msg string) {
	name := ""
	if dev != nil {
		name = dev.Name
	}
	c.e.Log().Emit(trace.Event{Kind: kind, Dev: name, Func: fn, Msg: msg})
}

// workFunc is deferred_probe_work_func: retry the active list's devices,
// from its head, one at a time, with deferred_probe_mutex dropped around
// each bus_probe_device.
func (c *Core) workFunc() {
	c.mutex.Lock()
	for {
		c.lists.Lock()
		if len(c.active) == 0 {
			c.lists.Unlock()
			break
		}
		dev := c.active[0]
		c.active = c.active[1:]
		dev.mu.Lock()
		dev.deferred = false
		dev.mu.Unlock()
		c.lists.Unlock()
		c.mutex.Unlock()
		c.emit(trace.ProbeDefer, dev, "deferred_probe_work_func", "Retrying from deferred list")
		c.busProbeDevice(dev)
		c.mutex.Lock()
	}
	c.mutex.Unlock()
}

// deferredProbeAdd is driver_deferred_probe_add.
func (c *Core) deferredProbeAdd(dev *Device) {
	c.mutex.Lock()
	dev.mu.Lock()
	if !dev.deferred {
		dev.deferred = true
		c.lists.Lock()
		c.pending = append(c.pending, dev)
		c.lists.Unlock()
		c.emit(trace.ProbeDefer, dev, "driver_deferred_probe_add", "Added to deferred list")
	}
	dev.mu.Unlock()
	c.mutex.Unlock()
}

// deferredProbeDel is driver_deferred_probe_del.
func (c *Core) deferredProbeDel(dev *Device) {
	c.mutex.Lock()
	dev.mu.Lock()
	if dev.deferred {
		dev.deferred = false
		c.lists.Lock()
		c.pending = remove(c.pending, dev)
		c.active = remove(c.active, dev)
		c.lists.Unlock()
		c.emit(trace.ProbeDefer, dev, "driver_deferred_probe_del", "Removed from deferred list")
	}
	dev.mu.Unlock()
	c.mutex.Unlock()
}

func remove(list []*Device, dev *Device) []*Device {
	for i, d := range list {
		if d == dev {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// trigger is driver_deferred_probe_trigger: the pending list moves to the
// tail of the active list (after the fix, the trigger count moves with
// it), and the work is kicked.
func (c *Core) trigger() {
	if !c.probeEnabled {
		return
	}
	c.mutex.Lock()
	if c.v == After {
		c.triggerCount.Add(1)
	}
	c.lists.Lock()
	n := len(c.pending)
	c.active = append(c.active, c.pending...)
	c.pending = nil
	c.lists.Unlock()
	c.mutex.Unlock()
	c.emit(trace.ProbeDefer, nil, "driver_deferred_probe_trigger", fmt.Sprintf("%d device(s) from the pending list to the active list", n))
	c.wq.Queue(c.work)
}

// driverBound is driver_bound: the device leaves the deferred lists and
// every pending device is retried.
func (c *Core) driverBound(dev *Device) {
	dev.mu.Lock()
	dev.bound = true
	dev.mu.Unlock()
	c.emit(trace.ProbeResult, dev, "driver_bound", "bound device "+dev.Name+" to driver "+dev.Driver.Name)
	c.deferredProbeDel(dev)
	c.trigger()
}

// reallyProbe is really_probe, in the variant's order: the probe, then
// driver_bound, or on -EPROBE_DEFER the pending list (and, after the fix,
// another trigger if one happened meanwhile).
func (c *Core) reallyProbe(dev *Device, drv *Driver) {
	var local int32
	if c.v == After {
		local = c.triggerCount.Load() // atomic_read(&deferred_trigger_count)
	}
	c.emit(trace.ProbeStart, dev, "really_probe", "probing driver "+drv.Name+" with device "+dev.Name)
	err := drv.Probe(dev)
	if err == nil {
		c.driverBound(dev)
		return
	}
	if errors.Is(err, device.ErrProbeDefer) {
		c.emit(trace.ProbeDefer, dev, "really_probe", "Driver "+drv.Name+" requests probe deferral")
		c.deferredProbeAdd(dev)
		if c.v == After && local != c.triggerCount.Load() {
			// Did a trigger occur while probing? Need to re-trigger if yes
			c.trigger()
		}
		return
	}
	c.emit(trace.ProbeResult, dev, "really_probe", "probe of "+dev.Name+" failed with error "+device.ErrnoName(err))
}

// Attach is driver_probe_device under the device lock, as
// __driver_attach (driver_register) and __device_attach (device_add) run
// it for a matching driver: a device already bound is left alone.
func (c *Core) Attach(dev *Device) {
	dev.lock.Lock()
	defer dev.lock.Unlock()
	if dev.Bound() {
		return
	}
	c.reallyProbe(dev, dev.Driver)
}

// busProbeDevice is bus_probe_device: device_attach tries the device's
// driver again.
func (c *Core) busProbeDevice(dev *Device) { c.Attach(dev) }

// Pending returns the names of the devices on the pending list.
func (c *Core) Pending() []string {
	c.lists.Lock()
	defer c.lists.Unlock()
	var out []string
	for _, d := range c.pending {
		out = append(out, d.Name)
	}
	return out
}
