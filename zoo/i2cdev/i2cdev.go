// Package i2cdev is drivers/i2c/i2c-dev.c, the /dev/i2c-N character
// devices of I2C adapters, twice: as it was before commit 1413ef638aba
// ("i2c: dev: Fix the race between the release of i2c_dev and cdev",
// Kevin Hao, 2019) and after it, written against drvsim's I2C core
// (drivers/i2csim) and character-device layer with the same calls in the
// same order.
//
// Before the fix, struct i2c_dev embeds its cdev but is kfree'd directly
// when its adapter goes away (i2cdev_detach_adapter's put_i2c_dev), while
// an open /dev/i2c-N still holds the cdev: the file's last fput then
// drops its cdev reference inside freed memory. After it, i2c_dev embeds
// a struct device too, cdev_device_add makes the cdev hold that device,
// and the struct is freed only by the device's release, after the last
// cdev reference.
package i2cdev

import (
	"errors"
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/i2csim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// The driver's character major and minor range (I2C_MAJOR, I2C_MINORS).
const (
	Major  = 89
	Minors = 256
)

// ClassName is the driver's class (/sys/class/i2c-dev).
const ClassName = "i2c-dev"

// Kind is the trace kind of the driver's own steps.
const Kind trace.Kind = "i2c-dev"

// The ioctls the model implements (include/uapi/linux/i2c-dev.h).
const (
	// IoctlSlave is I2C_SLAVE: use the address in the argument (an int).
	IoctlSlave = 0x0703
	// IoctlFuncs is I2C_FUNCS: the adapter's functionality.
	IoctlFuncs = 0x0705
)

// Variant is the driver before or after the fix.
type Variant int

// The variants.
const (
	// Before frees struct i2c_dev in i2cdev_detach_adapter.
	Before Variant = iota
	// After frees it in the release of the struct device it embeds.
	After
)

// i2cDev is struct i2c_dev.
type i2cDev struct {
	obj  *env.Object // the kzalloc'ed struct
	adap *i2csim.Adapter
	dev  *device.Device // Before: device_create's; After: the embedded one
	cdev chardev.Cdev   // embedded
}

// Module is the driver loaded on one machine: its statics (the i2c_dev
// list and its lock, the class) and its bus notifier.
type Module struct {
	v     Variant
	i2c   *i2csim.I2C
	class *chardev.Class
	fops  *chardev.FileOperations
	unreg func()

	mu   sync.Mutex // i2c_dev_list_lock
	list []*i2cDev
}

// Init is i2c_dev_init: the character numbers, the class, the bus
// notifier, then a /dev/i2c-N for every adapter already registered.
func Init(i *i2csim.I2C, v Variant) (*Module, error) {
	m := &Module{v: v, i2c: i}
	m.fops = &chardev.FileOperations{Open: m.open, UnlockedIoctl: m.ioctl, Release: m.release}
	if err := chardev.RegisterRegion(i, device.MkDev(Major, 0), Minors, "i2c"); err != nil {
		return nil, fmt.Errorf("i2c_dev_init: %w", err)
	}
	class, err := chardev.CreateClass(i, ClassName)
	if err != nil {
		chardev.UnregisterRegion(i, device.MkDev(Major, 0), Minors)
		return nil, fmt.Errorf("i2c_dev_init: %w", err)
	}
	m.class = class
	if m.unreg, err = i.Core().RegisterNotifier(i2csim.BusName, m.notifierCall); err != nil {
		_ = class.Destroy()
		chardev.UnregisterRegion(i, device.MkDev(Major, 0), Minors)
		return nil, fmt.Errorf("i2c_dev_init: %w", err)
	}
	for _, a := range i.Adapters() { // i2c_for_each_dev(NULL, i2cdev_attach_adapter)
		if err := m.attachAdapter(a.Dev()); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Exit is i2c_dev_exit: the notifier goes, every adapter is detached, the
// class and the numbers are given back.
func (m *Module) Exit() {
	m.unreg()
	for _, a := range m.i2c.Adapters() {
		m.detachAdapter(a.Dev())
	}
	_ = m.class.Destroy()
	chardev.UnregisterRegion(m.i2c, device.MkDev(Major, 0), Minors)
}

func (m *Module) emit(dev, fn, msg string) {
	m.i2c.Core().Log().Emit(trace.Event{Kind: Kind, Dev: dev, Func: fn, Msg: msg})
}

// notifierCall is i2cdev_notifier_call.
func (m *Module) notifierCall(action bus.Action, dev *device.Device) {
	switch action {
	case bus.NotifyAddDevice:
		_ = m.attachAdapter(dev)
	case bus.NotifyDelDevice:
		m.detachAdapter(dev)
	}
}

// getFree is get_free_i2c_dev: a new struct on the list.
func (m *Module) getFree(adap *i2csim.Adapter) *i2cDev {
	d := &i2cDev{obj: m.i2c.Env().Memory().Alloc(fmt.Sprintf("struct i2c_dev i2c-%d", adap.Nr())), adap: adap}
	m.mu.Lock()
	m.list = append(m.list, d)
	m.mu.Unlock()
	return d
}

// getByMinor is i2c_dev_get_by_minor.
func (m *Module) getByMinor(nr int) *i2cDev {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.list {
		if d.adap.Nr() == nr {
			return d
		}
	}
	return nil
}

// unlist takes d off the list.
func (m *Module) unlist(d *i2cDev) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, x := range m.list {
		if x == d {
			m.list = append(m.list[:i], m.list[i+1:]...)
			return
		}
	}
}

// attachAdapter is i2cdev_attach_adapter: for an adapter (not a client),
// a struct i2c_dev with its cdev live on I2C_MAJOR:nr and a class device
// i2c-N, whose node is /dev/i2c-N.
func (m *Module) attachAdapter(dev *device.Device) error {
	adap := m.i2c.AdapterOf(dev)
	if adap == nil { // dev->type != &i2c_adapter_type
		return nil
	}
	devt := device.MkDev(Major, uint32(adap.Nr()))
	d := m.getFree(adap)
	d.cdev.Init(m.i2c, m.fops)
	d.cdev.EmbedIn(d.obj)
	if m.v == Before {
		if err := d.cdev.Add(devt, 1); err != nil {
			m.putBefore(d)
			return err
		}
		cd, err := m.class.CreateDevice(adap.Dev(), devt, nil, "i2c-%d", adap.Nr())
		if err != nil {
			d.cdev.Del()
			m.putBefore(d)
			return err
		}
		d.dev = cd
	} else {
		d.dev = device.New(fmt.Sprintf("i2c-%d", adap.Nr()), device.WithDevt(devt), device.WithClass(m.class),
			device.WithParent(adap.Dev()), device.WithRelease(func(*device.Device) { d.release() }))
		if err := m.i2c.Core().InitializeDevice(d.dev); err != nil {
			m.unlist(d)
			d.obj.Free()
			return err
		}
		if err := d.cdev.DeviceAdd(d.dev); err != nil {
			m.putAfter(d, false)
			return err
		}
	}
	m.emit(d.dev.Path(), "i2cdev_attach_adapter", fmt.Sprintf("adapter [%s] registered as minor %d", adap.Name(), adap.Nr()))
	return nil
}

// detachAdapter is i2cdev_detach_adapter.
func (m *Module) detachAdapter(dev *device.Device) {
	adap := m.i2c.AdapterOf(dev)
	if adap == nil {
		return
	}
	d := m.getByMinor(adap.Nr())
	if d == nil { // attach_adapter must have failed
		return
	}
	m.emit(adap.Path(), "i2cdev_detach_adapter", fmt.Sprintf("adapter [%s] unregistered", adap.Name()))
	if m.v == Before {
		d.cdev.Del()
		m.putBefore(d)
		m.class.DestroyDevice(device.MkDev(Major, uint32(adap.Nr())))
		return
	}
	m.putAfter(d, true)
}

// putBefore is put_i2c_dev before the fix: off the list, kfree. The cdev
// inside may still be held by an open file.
func (m *Module) putBefore(d *i2cDev) {
	m.unlist(d)
	m.emit("", "put_i2c_dev", "kfree(i2c_dev)")
	d.obj.Free()
}

// putAfter is put_i2c_dev after the fix: off the list, cdev_device_del
// when asked, then put_device: the release frees the struct once the cdev
// lets go of the device.
func (m *Module) putAfter(d *i2cDev, delCdev bool) {
	m.unlist(d)
	if delCdev {
		d.cdev.DeviceDel(d.dev)
	}
	m.emit(d.dev.Path(), "put_i2c_dev", "put_device(&i2c_dev->dev)")
	_ = d.dev.Put()
}

// release is i2cdev_dev_release: kfree(i2c_dev).
func (d *i2cDev) release() {
	d.dev.Log().Emit(trace.Event{Kind: Kind, Dev: d.dev.Path(), Func: "i2cdev_dev_release", Msg: "kfree(i2c_dev)"})
	d.obj.Free()
}

// client is the struct i2c_client an open file gets (i2cdev_open).
type client struct {
	obj  *env.Object
	adap *i2csim.Adapter
	addr uint16
}

// open is i2cdev_open: the adapter of the minor, with a reference, and an
// anonymous client on it.
func (m *Module) open(f *chardev.File) error {
	adap := m.i2c.GetAdapter(f.Minor())
	if adap == nil {
		return fmt.Errorf("i2cdev_open minor %d: %w", f.Minor(), chardev.ErrNoDevice)
	}
	c := &client{obj: m.i2c.Env().Memory().Alloc(fmt.Sprintf("struct i2c_client i2c-dev %d", adap.Nr())), adap: adap}
	f.Private = c
	return nil
}

// release is i2cdev_release: the adapter reference goes, then the client.
func (m *Module) release(f *chardev.File) error {
	c, ok := f.Private.(*client)
	if !ok {
		return errors.New("i2cdev_release: no client")
	}
	c.obj.Access("i2cdev_release: client->adapter")
	c.adap.Put()
	c.obj.Free()
	f.Private = nil
	return nil
}

// ioctl is i2cdev_ioctl for I2C_SLAVE and I2C_FUNCS.
func (m *Module) ioctl(f *chardev.File, cmd uint, arg any) (int, error) {
	c, ok := f.Private.(*client)
	if !ok {
		return 0, chardev.ErrBadFile
	}
	c.obj.Access("i2cdev_ioctl: client")
	switch cmd {
	case IoctlSlave:
		addr, ok := arg.(int)
		if !ok || addr < 0 || addr > 0x7f {
			return 0, fmt.Errorf("i2cdev_ioctl I2C_SLAVE %v: %w", arg, chardev.ErrInvalid)
		}
		c.addr = uint16(addr)
		return 0, nil
	case IoctlFuncs:
		return 0x00000001 | 0x00010000, nil // I2C_FUNC_I2C | I2C_FUNC_SMBUS_QUICK
	}
	return 0, fmt.Errorf("i2cdev_ioctl cmd %#x: %w", cmd, chardev.ErrNoTTY)
}
