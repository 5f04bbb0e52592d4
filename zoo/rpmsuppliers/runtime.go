package rpmsuppliers

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/pm"
)

// This file is the 5.12 runtime.c's device-link functions: the probe's
// hold (pm_runtime_get_suppliers, pm_runtime_put_suppliers, the one the
// fix changed), the consumer's own holds taken and dropped around its
// runtime callbacks (rpm_get_suppliers, __rpm_put_suppliers,
// rpm_suspend_suppliers, from __rpm_callback and rpm_suspend), and the
// link's count (pm_runtime_new_link, pm_runtime_drop_link). Each uses
// package pm's API for the supplier's usage count, as runtime.c uses its
// own pm_runtime_get_sync and pm_runtime_put.

// pmLinks returns the DL_FLAG_PM_RUNTIME links to dev's suppliers.
func pmLinks(dev *device.Device) []*device.Link {
	var out []*device.Link
	for _, l := range dev.Suppliers() {
		if l.Flags&device.LinkPMRuntime != 0 {
			out = append(out, l)
		}
	}
	return out
}

// inc is refcount_inc(&link->rpm_active); it returns the new count.
func (c *Core) inc(l *device.Link) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state(l)
	st.rpmActive++
	return st.rpmActive
}

// GetSuppliers is pm_runtime_get_suppliers, which the driver core calls
// before a probe (after commit c0c33442f720, which put the count after
// the resume): each supplier of a DL_FLAG_PM_RUNTIME link is marked
// preactivated, resumed and held (pm_runtime_get_sync), and the link
// counts the hold. Both variants have it.
func (c *Core) GetSuppliers(dev *device.Device) {
	for _, l := range pmLinks(dev) {
		c.mu.Lock()
		c.state(l).preactivated = true
		c.mu.Unlock()
		_ = pm.GetSync(l.Supplier)
		n := c.inc(l)
		c.emit(dev, "pm_runtime_get_suppliers", fmt.Sprintf("supplier %s held for the probe: rpm_active %d -> %d", l.Supplier.Name(), n-1, n))
	}
}

// PutSuppliers is pm_runtime_put_suppliers, after the probe: for each
// link the probe's GetSuppliers marked, the link's count goes down
// (refcount_dec_not_one) and the supplier is put (pm_runtime_put).
// Before the fix it does so whatever the consumer's state, which takes a
// hold the active consumer counted for itself when its suspend already
// dropped the probe's. After it, only while the consumer is
// runtime-suspended, which the kernel checks under the consumer's
// power.lock; the count of an active consumer is its own, and its suspend
// drops it.
func (c *Core) PutSuppliers(dev *device.Device) {
	for _, l := range pmLinks(dev) {
		c.mu.Lock()
		st := c.state(l)
		if !st.preactivated {
			c.mu.Unlock()
			continue
		}
		st.preactivated = false
		was := st.rpmActive
		var put bool
		status := pm.RuntimeStatus(dev) // read under the consumer's power.lock
		if c.v == Before || status == pm.Suspended {
			put = st.decNotOne()
		}
		c.mu.Unlock()
		switch {
		case put:
			c.emit(dev, "pm_runtime_put_suppliers", fmt.Sprintf("supplier %s: rpm_active %d -> %d, pm_runtime_put", l.Supplier.Name(), was, was-1))
			_ = pm.Put(l.Supplier)
		case c.v == After && status != pm.Suspended:
			c.emit(dev, "pm_runtime_put_suppliers", fmt.Sprintf("supplier %s: consumer %s, rpm_active %d left to its suspend", l.Supplier.Name(), status, was))
		default:
			c.emit(dev, "pm_runtime_put_suppliers", fmt.Sprintf("supplier %s: rpm_active %d, nothing to put", l.Supplier.Name(), was))
		}
	}
}

// rpmGetSuppliers is rpm_get_suppliers, before the consumer's runtime
// resume callback: every supplier is resumed and held, and the link
// counts it; a supplier whose runtime PM is disabled counts as resumed.
func (c *Core) rpmGetSuppliers(dev *device.Device) error {
	for _, l := range pmLinks(dev) {
		err := pm.GetSync(l.Supplier)
		if err != nil && !errors.Is(err, device.ErrAccess) {
			_ = pm.PutNoidle(l.Supplier)
			return err
		}
		n := c.inc(l)
		c.emit(dev, "rpm_get_suppliers", fmt.Sprintf("supplier %s: rpm_active %d -> %d", l.Supplier.Name(), n-1, n))
	}
	return nil
}

// rpmPutSuppliers is __rpm_put_suppliers, after the consumer's runtime
// suspend callback succeeded (or its resume failed): every hold above one
// is dropped without an idle check (pm_runtime_put_noidle), then, if
// trySuspend, the supplier gets one (pm_request_idle).
func (c *Core) rpmPutSuppliers(dev *device.Device, trySuspend bool) {
	for _, l := range pmLinks(dev) {
		c.mu.Lock()
		st := c.state(l)
		was, n := st.rpmActive, 0
		for st.decNotOne() {
			n++
		}
		c.mu.Unlock()
		c.emit(dev, "__rpm_put_suppliers", fmt.Sprintf("supplier %s: rpm_active %d -> 1, %d hold(s) dropped", l.Supplier.Name(), was, n))
		for ; n > 0; n-- {
			_ = pm.PutNoidle(l.Supplier)
		}
		if trySuspend {
			_ = pm.RequestIdle(l.Supplier)
		}
	}
}

// rpmSuspendSuppliers is rpm_suspend_suppliers, once the consumer is
// suspended: each supplier gets an idle check (pm_request_idle).
func (c *Core) rpmSuspendSuppliers(dev *device.Device) {
	for _, l := range pmLinks(dev) {
		_ = pm.RequestIdle(l.Supplier)
	}
}

// Callbacks returns a copy of ops (nil: no callbacks of its own) whose
// runtime resume and suspend callbacks run inside the device-link part of
// the 5.12 __rpm_callback and rpm_suspend, for the devices of a bus or
// class that uses it: a consumer's resume first resumes and holds its
// suppliers (and drops them again if it fails); a suspend that succeeded
// drops the holds, then asks each supplier to idle. The kernel runs these
// around the callback with power.lock dropped, where a callback runs, so
// here they run in it; the supplier's idle request, which rpm_suspend
// makes once the status is RPM_SUSPENDED, is queued at the end of the
// callback instead, for pm_wq to run later either way.
func (c *Core) Callbacks(ops *device.PMOps) *device.PMOps {
	out := &device.PMOps{}
	if ops != nil {
		*out = *ops
	}
	resume, suspend := out.RuntimeResume, out.RuntimeSuspend
	out.RuntimeResume = func(dev *device.Device) error {
		useLinks := c.linksCount(dev) > 0
		if useLinks {
			if err := c.rpmGetSuppliers(dev); err != nil {
				c.rpmPutSuppliers(dev, true) // rpm_put_suppliers
				return err
			}
		}
		var err error
		if resume != nil {
			err = resume(dev)
		}
		if useLinks && err != nil {
			c.rpmPutSuppliers(dev, false)
		}
		return err
	}
	out.RuntimeSuspend = func(dev *device.Device) error {
		useLinks := c.linksCount(dev) > 0
		var err error
		if suspend != nil {
			err = suspend(dev)
		}
		if useLinks && err == nil {
			c.rpmPutSuppliers(dev, false)
			c.rpmSuspendSuppliers(dev)
		}
		return err
	}
	return out
}

// newLink is pm_runtime_new_link, with device_link_add's setting of
// rpm_active to one: the consumer has one more DL_FLAG_PM_RUNTIME link.
func (c *Core) newLink(l *device.Link) {
	c.mu.Lock()
	c.state(l)
	c.count[l.Consumer]++
	c.mu.Unlock()
	c.emit(l.Consumer, "pm_runtime_new_link", "supplier "+l.Supplier.Name()+": rpm_active 1")
}

// dropLink is pm_runtime_drop_link: one link fewer, every hold counted
// through it given back and the supplier asked to idle.
func (c *Core) dropLink(l *device.Link) {
	c.mu.Lock()
	if c.count[l.Consumer] > 0 {
		c.count[l.Consumer]--
	}
	n := 0
	if st := c.links[l]; st != nil {
		for st.decNotOne() {
			n++
		}
		delete(c.links, l)
	}
	c.mu.Unlock()
	for ; n > 0; n-- {
		_ = pm.PutNoidle(l.Supplier)
	}
	_ = pm.RequestIdle(l.Supplier)
}
