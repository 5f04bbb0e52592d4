package drmsim

import (
	"fmt"
	"sort"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// The DRM character major (include/uapi/linux/major.h, drm_drv.c).
const (
	// Major is DRM_MAJOR.
	Major = 226
	// MaxPrimaryMinors is the size of the primary minors' index range
	// (drm_minor_alloc's idr range 0-63 for DRM_MINOR_PRIMARY).
	MaxPrimaryMinors = 64
	// ClassName is the drm class's name (/sys/class/drm).
	ClassName = "drm"
)

// Class is the DRM core of one simulated machine: what the kernel keeps in
// globals set up by drm_core_init: the drm class (drm_class, whose
// devnode puts nodes under /dev/dri), the DRM major with its stub file
// operations (register_chrdev(DRM_MAJOR, "drm", &drm_stub_fops)) and the
// minor xarray (drm_minors_xa). It numbers minors ("card0", "card1", ...)
// and resolves opens of device nodes. Get it with NewClass.
type Class struct {
	core  *bus.Core
	class *chardev.Class

	mu     sync.Mutex
	minors map[int]*Minor // reserved at drm_dev_init; registered at drm_dev_register
}

// drmKey is the env.Env.Local key of a machine's DRM core.
type drmKey struct{}

// NewClass is drm_core_init on machine m (a drvsim.System, a *bus.Core, a
// *usbsim.USB): the machine's DRM core, created at the first call (the
// drm class and major 226; traced as class_register, register_chrdev and
// cdev_add) and the same value for every later call on that machine. Its
// drm_device, drm_file, GEM object and drmm_kzalloc allocations come from
// the machine's memory arena. It panics if the machine's class "drm" or
// major 226 is taken by someone else: drm_core_init failing at boot.
func NewClass(m bus.Machine) *Class {
	core := m.DriverCore()
	return core.Env().Local(drmKey{}, func() any {
		c := &Class{core: core, minors: map[int]*Minor{}}
		var err error
		c.class, err = chardev.CreateClass(core, ClassName, chardev.WithDevnode(drmDevnode))
		if err == nil {
			_, err = chardev.RegisterChrdev(core, Major, "drm", &chardev.FileOperations{Open: c.stubOpen})
		}
		if err != nil {
			panic("drmsim: drm_core_init: " + err.Error())
		}
		return c
	}).(*Class)
}

// drmDevnode is drm_devnode: /dev/dri/<name>.
func drmDevnode(dev *device.Device) string { return "dri/" + dev.Name() }

// Env returns the machine's environment (it makes a Class an env.Host).
func (c *Class) Env() *env.Env { return c.core.Env() }

// Log returns the machine's trace log.
func (c *Class) Log() *trace.Log { return c.Env().Log() }

// Memory returns the machine's memory arena.
func (c *Class) Memory() *env.Memory { return c.Env().Memory() }

// DeviceClass returns the drm class (drm_class, /sys/class/drm).
func (c *Class) DeviceClass() *chardev.Class { return c.class }

// allocMinor is drm_minor_alloc: the lowest free index (ErrNoSpace past
// MaxPrimaryMinors) and the minor's device (drm_sysfs_minor_alloc:
// "card<index>" in the drm class, below the parent, with number
// DRM_MAJOR:index), initialized, not added.
func (c *Class) allocMinor(d *Device, parent *device.Device) (*Minor, error) {
	c.mu.Lock()
	idx := 0
	for idx < MaxPrimaryMinors && c.minors[idx] != nil {
		idx++
	}
	if idx == MaxPrimaryMinors {
		c.mu.Unlock()
		return nil, fmt.Errorf("drm_minor_alloc: %d primary minors in use: %w", MaxPrimaryMinors, ErrNoSpace)
	}
	m := &Minor{index: idx, name: fmt.Sprintf("card%d", idx), dev: d}
	c.minors[idx] = m
	c.mu.Unlock()
	m.kdev = device.New(m.name, device.WithParent(parent), device.WithClass(c.class),
		device.WithDevt(device.MkDev(Major, uint32(idx))),
		device.WithRelease(func(*device.Device) {})) // drm_sysfs_release: kfree
	if err := c.core.InitializeDevice(m.kdev); err != nil {
		c.mu.Lock()
		delete(c.minors, idx)
		c.mu.Unlock()
		return nil, err
	}
	m.kdev.SetDrvdata(m)
	return m, nil
}

// freeMinor is drm_minor_alloc_release: put_device(minor->kdev) and
// xa_erase.
func (c *Class) freeMinor(m *Minor) {
	_ = m.kdev.Put()
	c.mu.Lock()
	delete(c.minors, m.index)
	c.mu.Unlock()
}

// Lookup returns the registered minor named name ("card0"), or nil (a
// minor that is reserved but not registered is not found, as
// drm_minor_acquire's xa_load sees NULL for it).
func (c *Class) Lookup(name string) *Minor {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.minors {
		if m.name == name && m.registered {
			return m
		}
	}
	return nil
}

// Nodes returns the names of the registered minors, sorted: the device
// nodes under /dev/dri.
func (c *Class) Nodes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.minors {
		if m.registered {
			out = append(out, m.name)
		}
	}
	sort.Strings(out)
	return out
}

// Open is open(2) of /dev/dri/<name> (chardev.Open): chrdev_open on
// DRM_MAJOR:index reaches drm_stub_open, which acquires the minor and
// hands the file to the drm driver's file operations, whose open is
// drm_open. It fails with ErrNoEntry when there is no such node, and with
// ErrNoDevice when the minor is being unregistered or its device is
// unplugged. The File (the drm_file behind the struct file) holds a
// reference on the drm device until its last close.
func (c *Class) Open(name string) (*File, error) {
	filp, err := chardev.Open(c, "/dev/dri/"+name)
	if err != nil {
		return nil, err
	}
	return filp.Private.(*File), nil
}

// stubOpen is drm_stub_open: acquire the minor by the file's minor number
// (drm_minor_acquire: -ENODEV when it is not registered), install the drm
// file operations and run drm_open, which keeps the acquired reference.
// (The kernel's drm_stub_open acquires the minor once more around the
// call and releases it at the end: a net zero the trace leaves out.)
func (c *Class) stubOpen(f *chardev.File) error {
	m, d := c.acquire(f.Minor())
	if m == nil {
		c.Log().Emit(trace.Event{Kind: KindFile, Func: "drm_open", Dev: f.Path(), Msg: "ret=-ENODEV (no such minor)"})
		return fmt.Errorf("drm_stub_open %s: %w", f.Path(), ErrNoDevice)
	}
	f.ReplaceFops(fops)
	return d.open(m, f)
}

// acquire is drm_minor_acquire's lookup: the minor and a reference on its
// device, taken under the xarray lock.
func (c *Class) acquire(index int) (*Minor, *Device) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.minors[index]; m != nil && m.registered {
		m.dev.refs.Add(1)
		return m, m.dev
	}
	return nil, nil
}
