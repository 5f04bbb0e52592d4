// Package rpmsuppliers rebuilds the device-link half of runtime PM as
// Linux 5.12-rc5 had it (drivers/base/power/runtime.c, and the calls
// around really_probe in drivers/base/dd.c) twice: before commit
// 9dfacc54a866 ("PM: runtime: Fix race getting/putting suppliers at
// probe", Adrian Hunter, 2021) and after it. drvsim's own PM core (package
// pm) counts the probe's hold on a supplier the way the kernel has since
// commit 887371066039 (2022), which removed the race in another way; this
// package keeps the 2021 counting, on top of pm's runtime PM (usage
// counts, pm_wq, autosuspend on the virtual clock), the way zoo/deferral
// keeps the 2014 deferred probe.
//
// Each DL_FLAG_PM_RUNTIME link counts, in rpm_active, one plus the holds
// on its supplier taken through it: the consumer's runtime resume takes
// one (rpm_get_suppliers) and its runtime suspend drops every hold above
// one (__rpm_put_suppliers). Before a probe the driver core takes one more
// (pm_runtime_get_suppliers) and after it drops one (pm_runtime_put_suppliers).
// Before the fix the drop was unconditional. If the consumer suspended
// while the probe was starting, its suspend dropped the probe's hold with
// its own; the probe then resumed the consumer, which took a hold of its
// own, and the drop after the probe took that one: the consumer active,
// its supplier free to suspend. After the fix the drop is skipped unless
// the consumer is runtime-suspended (checked under its power lock): a
// count left on an active consumer is the consumer's, for its suspend to
// drop.
package rpmsuppliers

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/trace"
)

// Variant is the runtime PM core before or after the fix.
type Variant int

// The variants.
const (
	// Before: pm_runtime_put_suppliers drops the probe's count
	// unconditionally.
	Before Variant = iota
	// After: it drops it only while the consumer is runtime-suspended.
	After
)

// String names the variant: "before" or "after".
func (v Variant) String() string {
	if v == After {
		return "after"
	}
	return "before"
}

// Core is the 2021 supplier accounting of one machine: the rpm_active
// count and supplier_preactivated flag of each DL_FLAG_PM_RUNTIME link
// (struct device_link's), and each consumer's power.links_count. Install
// puts it between the machine's driver core and its PM core.
type Core struct {
	v     Variant
	e     *env.Env
	inner bus.PowerHooks // the PM core's own hooks, for everything else

	// mu is what makes the kernel's refcount_t operations atomic, and,
	// after the fix, holds the consumer's status still while
	// pm_runtime_put_suppliers decides (the kernel's power.lock there).
	// It is never held across a PM call.
	mu    sync.Mutex
	links map[*device.Link]*link
	count map[*device.Device]int // power.links_count
}

// link is the runtime PM part of struct device_link.
type link struct {
	// rpmActive is refcount_t rpm_active: 1 plus the holds on the
	// supplier counted through the link.
	rpmActive int
	// preactivated is supplier_preactivated: pm_runtime_get_suppliers
	// took a hold for the probe.
	preactivated bool
}

// decNotOne is refcount_dec_not_one: the count goes down unless it is
// one; it reports whether it did. Called with Core.mu held.
func (l *link) decNotOne() bool {
	if l.rpmActive <= 1 {
		return false
	}
	l.rpmActive--
	return true
}

// Install puts the 2021 accounting of variant v on machine m (a
// drvsim.System, a bus.Core): the driver core's power hooks are wrapped
// so that the calls around really_probe are driver_probe_device's of
// 5.12 (ProbeBegin, ProbeEnd) and DL_FLAG_PM_RUNTIME links are counted
// here (pm_runtime_new_link, pm_runtime_drop_link), the PM core doing the
// rest. The consumers' runtime callbacks must come from Callbacks. Install
// before adding any such link. A machine without a PM core gives
// ErrInvalid; installing twice gives ErrBusy.
func Install(m bus.Machine, v Variant) (*Core, error) {
	if m == nil {
		return nil, fmt.Errorf("rpmsuppliers: Install: no machine: %w", device.ErrInvalid)
	}
	dc := m.DriverCore()
	inner := dc.PowerHooks()
	switch inner.(type) {
	case nil:
		return nil, fmt.Errorf("rpmsuppliers: Install: no PM core on the machine (pm.Attach): %w", device.ErrInvalid)
	case hooks:
		return nil, fmt.Errorf("rpmsuppliers: Install: installed already: %w", device.ErrBusy)
	}
	c := &Core{v: v, e: dc.Env(), inner: inner, links: map[*device.Link]*link{}, count: map[*device.Device]int{}}
	dc.SetPowerHooks(hooks{PowerHooks: inner, c: c})
	return c, nil
}

// Variant returns the core's variant.
func (c *Core) Variant() Variant { return c.v }

// RPMActive returns the link's rpm_active count (1 for a link the core
// does not count).
func (c *Core) RPMActive(l *device.Link) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.links[l]; st != nil {
		return st.rpmActive
	}
	return 1
}

// state returns l's runtime PM state, made on first use (a link counted
// from now on). Called with c.mu held.
func (c *Core) state(l *device.Link) *link {
	st := c.links[l]
	if st == nil {
		st = &link{rpmActive: 1} // device_link_add: refcount_set(&link->rpm_active, 1)
		c.links[l] = st
	}
	return st
}

// linksCount returns dev's power.links_count.
func (c *Core) linksCount(dev *device.Device) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[dev]
}

func (c *Core) emit(dev *device.Device, fn, msg string) {
	c.e.Log().Emit(trace.Event{Kind: pm.KindRuntime, Dev: dev.Path(), Func: fn, Msg: msg})
}

// hooks are the machine's power hooks with the probe and link ones
// replaced.
type hooks struct {
	bus.PowerHooks
	c *Core
}

// ProbeBegin is driver_probe_device of 5.12 up to really_probe: the
// suppliers resumed and held (pm_runtime_get_suppliers), the parent
// (pm_runtime_get_sync), and the device's pending runtime PM work flushed
// (pm_runtime_barrier).
func (h hooks) ProbeBegin(dev *device.Device) {
	h.c.GetSuppliers(dev)
	if p := dev.Parent(); p != nil {
		_ = pm.GetSync(p)
	}
	pm.Barrier(dev)
}

// ProbeEnd is driver_probe_device of 5.12 after really_probe: an idle
// check queued (pm_request_idle), the parent put, then the suppliers
// (pm_runtime_put_suppliers).
func (h hooks) ProbeEnd(dev *device.Device) {
	_ = pm.RequestIdle(dev)
	if p := dev.Parent(); p != nil {
		_ = pm.Put(p)
	}
	h.c.PutSuppliers(dev)
}

// LinkAdded is pm_runtime_new_link (and device_link_add's setting of
// rpm_active to one).
func (h hooks) LinkAdded(l *device.Link) { h.c.newLink(l) }

// LinkRemoved is pm_runtime_drop_link.
func (h hooks) LinkRemoved(l *device.Link) { h.c.dropLink(l) }
