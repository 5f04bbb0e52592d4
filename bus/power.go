package bus

import (
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// PowerHooks are the places where the driver core calls into the power
// management core (drivers/base/power, package pm): the device list of
// system sleep kept in step with device_add, device_del and the
// reordering of device links, and runtime PM's part in probe and unbind
// (dd.c). Package pm implements them and installs them with
// SetPowerHooks; drvsim.NewSystem does so for every machine. A Core
// without them does no power management. Every hook is called without
// the core's lock, except DeviceMovedLast (see there).
type PowerHooks interface {
	// DeviceAdded is device_pm_add, from device_add before the bus is
	// asked to probe the device: it joins the end of the PM core's list.
	DeviceAdded(dev *device.Device)
	// DeviceRemoved is device_pm_remove, from device_del once the driver
	// is released: it leaves the list and runtime PM is disabled for it
	// (pm_runtime_remove).
	DeviceRemoved(dev *device.Device)
	// DeviceMovedLast is device_pm_move_last, from
	// device_reorder_to_tail (device links, deferred probe retries).
	// Called with the core's lock held: it must not call back into the
	// core.
	DeviceMovedLast(dev *device.Device)
	// ProbeBegin and ProbeEnd bracket really_probe in
	// __driver_probe_device: the suppliers of DL_FLAG_PM_RUNTIME links
	// and the parent are resumed and held, and pending runtime PM work of
	// the device is flushed (pm_runtime_get_suppliers,
	// pm_runtime_get_sync(parent), pm_runtime_barrier); afterwards an
	// idle check is queued and the holds are dropped (pm_request_idle,
	// pm_runtime_put(parent), pm_runtime_put_suppliers).
	ProbeBegin(dev *device.Device)
	ProbeEnd(dev *device.Device)
	// UnbindBegin is the pm_runtime_get_sync at the start of
	// __device_release_driver: the device is resumed for its unbind.
	UnbindBegin(dev *device.Device)
	// UnbindAbort is the pm_runtime_put of an unbind that found the
	// driver released by someone else meanwhile.
	UnbindAbort(dev *device.Device)
	// BeforeRemove is the pm_runtime_put_sync just before device_remove:
	// the device may suspend before its driver's remove runs.
	BeforeRemove(dev *device.Device)
	// UnbindCleanup is pm_runtime_reinit in device_unbind_cleanup, after
	// devres is released: a device whose runtime PM is disabled is set
	// back to suspended.
	UnbindCleanup(dev *device.Device)
	// LinkAdded and LinkRemoved are pm_runtime_new_link and
	// pm_runtime_drop_link for a DL_FLAG_PM_RUNTIME link: a dropped link
	// gives back the runtime PM references the consumer held on the
	// supplier.
	LinkAdded(l *device.Link)
	LinkRemoved(l *device.Link)
	// RuntimeStatus is the device's power/runtime_status as sysfs shows
	// it ("active", "suspended", "unsupported" while runtime PM is
	// disabled, ...), with its usage count when runtime PM is enabled,
	// for Tree.
	RuntimeStatus(dev *device.Device) string
}

// SetPowerHooks installs the PM core's hooks; package pm calls it once
// per machine, before any device is added. Later calls replace the hooks.
func (c *Core) SetPowerHooks(h PowerHooks) {
	c.mu.Lock()
	c.pm = h
	c.mu.Unlock()
}

// PowerHooks returns the installed hooks, nil for none. A PM core that
// replaces some of another's hooks (the bug zoo's rebuild of the 2021
// supplier accounting around probe, zoo/rpmsuppliers) wraps them: it
// installs its own with SetPowerHooks and calls these for the rest.
func (c *Core) PowerHooks() PowerHooks { return c.powerHooks() }

// powerHooks returns the installed hooks, nil for none.
func (c *Core) powerHooks() PowerHooks {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pm
}

// BlockProbing is device_block_probing, what dpm_prepare calls at the
// start of a system suspend: probes in flight are waited for
// (wait_for_device_probe), then every new probe defers at once (really_probe
// returns -EPROBE_DEFER and the device waits on the pending list), and
// probes that started meanwhile are waited for again. A manual bind
// meanwhile fails with ErrAgain.
func (c *Core) BlockProbing() {
	c.WaitForProbes()
	c.mu.Lock()
	c.deferAll = true
	c.mu.Unlock()
	c.emit(trace.ProbeDefer, "", "device_block_probing", "defer_all_probes: every probe defers until probing is unblocked")
	c.WaitForProbes()
}

// UnblockProbing is device_unblock_probing, what dpm_complete calls at
// the end of a system resume: probes are allowed again and the deferred
// list is triggered, so that the devices that deferred meanwhile are
// probed (before UnblockProbing returns, in the synchronous default).
func (c *Core) UnblockProbing() {
	c.enter()
	c.mu.Lock()
	c.deferAll = false
	c.mu.Unlock()
	c.emit(trace.ProbeDefer, "", "device_unblock_probing", "probing allowed again")
	c.deferredProbeTrigger()
	c.exit()
}
