package bus

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/trace"
)

// InitializeDevice is device_initialize: the device gets its first
// reference and is attached to this core's trace log and scheduler.
func (c *Core) InitializeDevice(dev *device.Device) error {
	if dev == nil {
		return fmt.Errorf("device_initialize: nil device: %w", device.ErrInvalid)
	}
	return dev.Core().Initialize(c.env)
}

// RegisterDevice is device_register: InitializeDevice then AddDevice. On
// failure the caller still owns the initial reference and drops it with
// dev.Put, as in the kernel.
func (c *Core) RegisterDevice(dev *device.Device) error {
	if dev == nil {
		return fmt.Errorf("device_register: nil device: %w", device.ErrInvalid)
	}
	if err := c.InitializeDevice(dev); err != nil {
		if dev.IsRegistered() {
			return fmt.Errorf("device_register %s: already registered: %w", dev.Path(), device.ErrExist)
		}
		return err
	}
	return c.AddDevice(dev)
}

// AddDevice is device_add: the device takes a reference on its parent and
// joins the device list and its bus; BUS_NOTIFY_ADD_DEVICE and the "add"
// uevent follow, then bus_probe_device tries the bus's drivers in
// registration order, and only then does the device join its parent's
// child list (klist_children), as in the kernel: a probing child is not yet
// among its parent's children.
func (c *Core) AddDevice(dev *device.Device) error {
	if err := c.addDevice(dev); err != nil {
		return err
	}
	c.enter()
	defer c.exit()
	p := c.devPrivOf(dev)
	c.devtmpfsCreate(dev)
	if p.bus != nil {
		c.notify(p.bus, dev, NotifyAddDevice)
	}
	c.uevent(dev, "add")
	if p.bus != nil && !p.bus.NoAutoprobe {
		c.deviceAttach(p, true) // bus_probe_device -> device_initial_probe
	}
	dev.Core().JoinParent()
	return nil
}

func (c *Core) addDevice(dev *device.Device) error {
	if dev == nil {
		return fmt.Errorf("device_add: nil device: %w", device.ErrInvalid)
	}
	if err := device.ValidateName("device_add", dev.Name()); err != nil {
		c.emit(trace.Warn, dev.Path(), "device_add", "invalid name: "+err.Error())
		return err
	}
	if len(dev.Path()) >= device.PathMax {
		return fmt.Errorf("device_add %.64s...: sysfs path of %d bytes, longer than PATH_MAX: %w", dev.Path(), len(dev.Path()), device.ErrNameTooLong)
	}
	switch st := dev.State(); {
	case st == device.StateNew:
		return fmt.Errorf("device_add %s: not initialized: %w", dev.Path(), device.ErrInvalid)
	case st != device.StateInitialized:
		return fmt.Errorf("device_add %s: already registered (state %s): %w", dev.Path(), st, device.ErrExist)
	}
	if dev.Env() != c.env {
		return fmt.Errorf("device_add %s: initialized by another system: %w", dev.Path(), device.ErrInvalid)
	}
	var b *Bus
	if db := dev.Bus(); db != nil {
		var ok bool
		b, ok = db.(*Bus)
		if !ok {
			return fmt.Errorf("device_add %s: bus %q is not a *bus.Bus: %w", dev.Path(), db.BusName(), device.ErrInvalid)
		}
	}
	if par := dev.Parent(); par != nil && (c.devPrivOf(par) == nil || !par.IsRegistered() || par.IsDead()) {
		return fmt.Errorf("device_add %s: parent %s is not registered: %w", dev.Path(), par.Path(), device.ErrNoDevice)
	}
	c.mu.Lock()
	if b != nil {
		if b.p == nil || b.p.core != c {
			c.mu.Unlock()
			return fmt.Errorf("device_add %s: bus %q not registered: %w", dev.Path(), b.Name, device.ErrInvalid)
		}
		if _, dup := b.p.byName[dev.Name()]; dup {
			c.mu.Unlock()
			return fmt.Errorf("device_add %s: a device named %q is already on bus %q: %w", dev.Path(), dev.Name(), b.Name, device.ErrExist)
		}
	}
	if dev.Core().Private() != nil {
		c.mu.Unlock()
		return fmt.Errorf("device_add %s: already registered: %w", dev.Path(), device.ErrExist)
	}
	if _, dup := c.paths[dev.Path()]; dup {
		c.mu.Unlock()
		c.emit(trace.Warn, dev.Path(), "sysfs_create_dir", "sysfs: cannot create duplicate filename '"+strings.TrimPrefix(dev.Path(), "/sys")+"'")
		return fmt.Errorf("device_add %s: another device has that sysfs path: %w", dev.Path(), device.ErrExist)
	}
	c.paths[dev.Path()] = struct{}{}
	c.devSeq++
	p := &devPriv{dev: dev, core: c, bus: b, seq: c.devSeq}
	p.globalNode.v, p.busNode.v, p.drvNode.v, p.deferNode.v = p, p, p, p
	c.devices.pushBack(&p.globalNode)
	if b != nil {
		b.p.devices.pushBack(&p.busNode)
		b.p.byName[dev.Name()] = p
	}
	dev.Core().SetPrivate(p)
	dev.Core().SetState(device.StateAdded)
	c.mu.Unlock()
	dev.Core().HoldParent()
	var msg []string
	if b != nil {
		msg = append(msg, "bus="+b.Name)
	}
	if cl := dev.ClassName(); cl != "" {
		msg = append(msg, "class="+cl)
	}
	if dev.Devt() != 0 {
		msg = append(msg, "dev="+dev.Devt().String())
	}
	c.emit(trace.DeviceAdd, dev.Path(), "device_add", strings.Join(msg, " "))
	return nil
}

// DeleteDevice is device_del: the device is marked dead,
// BUS_NOTIFY_DEL_DEVICE is sent, it leaves its parent's child list, then
// bus_remove_device takes it off its bus's list and releases its driver
// (__device_release_driver); it leaves the deferred list, its device links
// are purged, devres still on it (collected without a driver) is released,
// BUS_NOTIFY_REMOVED_DEVICE and the "remove" uevent are sent, it leaves the
// device list and the parent's reference is dropped. The memory stays until
// the last Put.
//
// device_del does not walk children. Deleting a device that still has
// registered children on a bus is misuse: DeleteDevice emits trace.Warn,
// returns an ErrBusy error and changes nothing; remove the children first
// (see UnregisterTree). Class devices below it (a driver's device_create
// nodes) are its driver's: the unbind inside device_del removes them, as
// usb_deregister_dev does from a disconnect; one still there once the
// driver is released is left registered, as in the kernel, with a
// trace.Warn. The device's /dev node goes before its driver is released
// (devtmpfs_delete_node). An unknown or already deleted device gives
// ErrNoDevice.
func (c *Core) DeleteDevice(dev *device.Device) error {
	p := c.devPrivOf(dev)
	if p == nil || p.deleted {
		path := "<nil>"
		if dev != nil {
			path = dev.Path()
		}
		return fmt.Errorf("device_del %s: not registered in this system: %w", path, device.ErrNoDevice)
	}
	if n := busChildren(dev); n > 0 {
		c.emit(trace.Warn, dev.Path(), "device_del", fmt.Sprintf("device still has %d registered children; remove them first", n))
		return fmt.Errorf("device_del %s: %d registered children must be removed first: %w", dev.Path(), n, device.ErrBusy)
	}
	c.enter()
	defer c.exit()
	if err := dev.Core().Lock(); err != nil {
		return fmt.Errorf("device_del: %w", err)
	}
	alive := dev.Core().Kill() // kill_device
	dev.Unlock()
	if !alive {
		return fmt.Errorf("device_del %s: already being deleted: %w", dev.Path(), device.ErrNoDevice)
	}
	c.mu.Lock()
	p.deleted = true
	c.mu.Unlock()
	c.emit(trace.DeviceDel, dev.Path(), "device_del", "")
	if p.bus != nil {
		c.notify(p.bus, dev, NotifyDelDevice)
	}
	dev.Core().UnlinkFromParent()
	c.devtmpfsDelete(dev)
	// bus_remove_device: off the bus's list (klist_del(knode_bus) and the
	// sysfs link), then device_release_driver.
	if p.bus != nil {
		c.mu.Lock()
		p.busNode.unlink()
		if p.bus.p.byName[dev.Name()] == p {
			delete(p.bus.p.byName, dev.Name())
		}
		c.mu.Unlock()
		if err := c.releaseDriver(p, nil); err != nil {
			c.emit(trace.Warn, dev.Path(), "bus_remove_device", "could not release the driver: "+err.Error())
		}
	}
	for _, ch := range dev.Children() {
		if ch.Class() == nil {
			continue
		}
		c.emit(trace.Warn, dev.Path(), "device_del", fmt.Sprintf("class device %s is still registered: its driver did not remove it (device_destroy)", ch.Path()))
	}
	c.deferredProbeDel(p)
	c.linksPurge(p)
	// devres_release_all: what the device collected without a driver (the
	// kernel calls it unconditionally; an empty list does nothing, and
	// drvsim then records nothing).
	if l := dev.Devres(); !l.Empty() {
		c.emit(trace.DevresRelease, dev.Path(), "devres_release_all", devres.Count(l.Len()))
		l.ReleaseAll()
	}
	if p.bus != nil {
		c.notify(p.bus, dev, NotifyRemovedDevice)
	}
	c.uevent(dev, "remove")
	c.mu.Lock()
	p.globalNode.unlink()
	delete(c.paths, dev.Path())
	c.mu.Unlock()
	dev.Core().SetState(device.StateRemoved)
	if par := dev.Parent(); par != nil {
		_ = par.Put()
	}
	return nil
}

// UnregisterDevice is device_unregister: DeleteDevice, then Put of the
// reference taken by device_initialize.
func (c *Core) UnregisterDevice(dev *device.Device) error {
	if err := c.DeleteDevice(dev); err != nil {
		return err
	}
	return dev.Put()
}

// UnregisterTree is the helper a subsystem uses to remove a device it
// created together with everything below it: the children on a bus are
// unregistered first, newest first and each recursively
// (device_for_each_child_reverse plus device_unregister, as
// platform_device_unregister users and mfd_remove_devices do), then dev
// itself. Class devices are left to the driver that created them, whose
// unbind removes them.
func (c *Core) UnregisterTree(dev *device.Device) error {
	if c.devPrivOf(dev) == nil {
		return c.UnregisterDevice(dev) // reports the error
	}
	kids := dev.Children()
	for i := len(kids) - 1; i >= 0; i-- {
		if kids[i].Class() != nil {
			continue
		}
		if err := c.UnregisterTree(kids[i]); err != nil {
			return err
		}
	}
	return c.UnregisterDevice(dev)
}

// busChildren counts dev's registered children that are not class devices:
// the ones device_del's caller must remove first.
func busChildren(dev *device.Device) int {
	n := 0
	for _, ch := range dev.Children() {
		if ch.Class() == nil {
			n++
		}
	}
	return n
}
