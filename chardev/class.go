package chardev

import (
	"fmt"
	"strings"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// maxSysfsName bounds the names of classes and of their devices (a sysfs
// file name: NAME_MAX).
const maxSysfsName = 255

// Class is struct class (drivers/base/class.c): a kind of device user
// space sees, whatever bus it sits on ("usbmisc", "drm", "input"). Its
// devices live under /sys/class/<name> and in sysfs under their parent's
// <name> directory; the class names their /dev nodes (class->devnode). It
// implements device.Class. Create it with CreateClass; a Class belongs to
// one machine. Its methods are safe for concurrent use.
type Class struct {
	m       *machine
	core    *bus.Core
	name    string
	devnode func(dev *device.Device) string

	mu         sync.Mutex
	registered bool
}

// ClassOption configures CreateClass.
type ClassOption func(*Class)

// WithDevnode sets class->devnode: fn names the /dev node of each of the
// class's devices ("dri/" + name for drm); "" from fn means the device's
// name.
func WithDevnode(fn func(dev *device.Device) string) ClassOption {
	return func(c *Class) { c.devnode = fn }
}

// CreateClass is class_create (class_register): a class named name on
// machine m. The name must be unique on the machine (ErrExist), not empty,
// at most 255 bytes and without '/' (ErrInvalid).
func CreateClass(m bus.Machine, name string, opts ...ClassOption) (*Class, error) {
	core := m.DriverCore()
	mc := machineOf(core.Env())
	if name == "" || len(name) > maxSysfsName || strings.ContainsRune(name, '/') {
		mc.emit(trace.Warn, "/sys/class/"+name, "class_register", "bad class name: -EINVAL")
		return nil, fmt.Errorf("class_register %q: bad name: %w", name, ErrInvalid)
	}
	c := &Class{m: mc, core: core, name: name}
	for _, o := range opts {
		o(c)
	}
	mc.mu.Lock()
	for _, x := range mc.classes {
		if x.name == name {
			mc.mu.Unlock()
			mc.emit(KindClass, "/sys/class/"+name, "class_register", "-EEXIST")
			return nil, fmt.Errorf("class_register %q: %w", name, ErrExist)
		}
	}
	c.registered = true
	mc.classes = append(mc.classes, c)
	mc.mu.Unlock()
	mc.emit(KindClass, c.Path(), "class_register", "")
	return c, nil
}

// Destroy is class_destroy (class_unregister). A class that still has
// devices is refused with ErrBusy and a trace.Warn (the kernel leaves them
// pointing to a freed class); destroying twice gives ErrInvalid.
func (c *Class) Destroy() error {
	if n := len(c.Devices()); n > 0 {
		c.m.emit(trace.Warn, c.Path(), "class_unregister", fmt.Sprintf("class still has %d device(s); device_destroy them first", n))
		return fmt.Errorf("class_unregister %s: %d devices left: %w", c.name, n, ErrBusy)
	}
	c.mu.Lock()
	was := c.registered
	c.registered = false
	c.mu.Unlock()
	if !was {
		return fmt.Errorf("class_unregister %s: not registered: %w", c.name, ErrInvalid)
	}
	c.m.mu.Lock()
	for i, x := range c.m.classes {
		if x == c {
			c.m.classes = append(c.m.classes[:i], c.m.classes[i+1:]...)
			break
		}
	}
	c.m.mu.Unlock()
	c.m.emit(KindClass, c.Path(), "class_unregister", "")
	return nil
}

// Name returns the class's name.
func (c *Class) Name() string { return c.name }

// ClassName returns the class's name; it makes a *Class a device.Class.
func (c *Class) ClassName() string { return c.name }

// Path returns the class's sysfs directory, /sys/class/<name>.
func (c *Class) Path() string { return "/sys/class/" + c.name }

// DevNode is class->devnode: the /dev name the class gives dev, "" for the
// device's own name.
func (c *Class) DevNode(dev *device.Device) string {
	if c.devnode == nil {
		return ""
	}
	return c.devnode(dev)
}

// Devices returns the class's registered devices in order of
// registration (class_for_each_device).
func (c *Class) Devices() []*device.Device {
	var out []*device.Device
	for _, d := range c.core.Devices() {
		if d.Class() == device.Class(c) {
			out = append(out, d)
		}
	}
	return out
}

// FindDeviceByDevt is class_find_device_by_devt: the class's registered
// device with number devt, or nil.
func (c *Class) FindDeviceByDevt(devt device.DevT) *device.Device {
	for _, d := range c.Devices() {
		if d.Devt() == devt {
			return d
		}
	}
	return nil
}

// CreateDevice is device_create: a device of the class named by format
// and args, below parent (nil: /sys/devices/virtual/<class>), with number
// devt (0: none, no /dev node) and drvdata as its driver data, initialized
// and added to the machine's driver core, which creates its /dev node. A
// '/' in the name becomes '!' (and '/' again in the default node name), as
// kobject names do. It fails with ErrInvalid for an empty or too long
// name or a destroyed class, ErrExist for a name the class already has
// below that parent, and with device_add's errors.
func (c *Class) CreateDevice(parent *device.Device, devt device.DevT, drvdata any, format string, args ...any) (*device.Device, error) {
	name := strings.ReplaceAll(fmt.Sprintf(format, args...), "/", "!")
	c.mu.Lock()
	registered := c.registered
	c.mu.Unlock()
	switch {
	case !registered:
		return nil, fmt.Errorf("device_create %s in class %s: class destroyed: %w", name, c.name, ErrInvalid)
	case name == "" || len(name) > maxSysfsName:
		return nil, fmt.Errorf("device_create %q in class %s: bad name: %w", name, c.name, ErrInvalid)
	}
	for _, d := range c.Devices() {
		if d.Name() == name && d.Parent() == parent {
			c.m.emit(trace.Warn, d.Path(), "device_create", "sysfs: cannot create duplicate filename: -EEXIST")
			return nil, fmt.Errorf("device_create %s: %w", d.Path(), ErrExist)
		}
	}
	opts := []device.Option{device.WithClass(c), device.WithDevt(devt),
		device.WithRelease(func(*device.Device) {})} // device_create_release: kfree
	if parent != nil {
		opts = append(opts, device.WithParent(parent))
	}
	dev := device.New(name, opts...)
	if err := c.core.InitializeDevice(dev); err != nil {
		return nil, err
	}
	dev.SetDrvdata(drvdata)
	if err := c.core.AddDevice(dev); err != nil {
		_ = dev.Put()
		return nil, fmt.Errorf("device_create %s: %w", dev.Path(), err)
	}
	return dev, nil
}

// DestroyDevice is device_destroy: the class's device with number devt is
// unregistered (device_unregister: its /dev node goes). No such device:
// nothing happens, as in the kernel.
func (c *Class) DestroyDevice(devt device.DevT) {
	if d := c.FindDeviceByDevt(devt); d != nil {
		if err := c.core.UnregisterDevice(d); err != nil {
			c.m.emit(trace.Warn, d.Path(), "device_destroy", err.Error())
		}
	}
}

// Classes returns the classes registered on machine m, in order of
// registration (/sys/class).
func Classes(m bus.Machine) []*Class {
	mc := machineOf(m.DriverCore().Env())
	mc.mu.Lock()
	defer mc.mu.Unlock()
	return append([]*Class(nil), mc.classes...)
}

var _ device.Class = (*Class)(nil)
