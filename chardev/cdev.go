package chardev

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// Cdev is struct cdev: a character device, the file operations behind a
// range of device numbers. It is reference counted like the kobject it
// embeds in the kernel: Init (or CdevAlloc) gives it one reference, every
// open File holds one from chrdev_open (cdev_get) to its last fput
// (cdev_put), and Del drops the first. At the last put it is released:
// the parent set with SetParent is put, and a CdevAlloc'ed cdev frees its
// memory.
//
// A driver either allocates it (CdevAlloc) or embeds it in its own state
// (a Cdev field, set up with Init); an embedded cdev lives as long as the
// memory around it, which EmbedIn tells the sanitizer. A Cdev must not be
// copied after Init. Its methods are safe for concurrent use.
type Cdev struct {
	e       *env.Env
	ops     *FileOperations
	name    string      // the kobject's name, for traces ("" for most)
	mem     *env.Object // the allocation the cdev lives in (nil: untracked)
	dynamic bool        // cdev_alloc'ed: mem is freed at release
	parent  *device.Device

	mu     sync.Mutex
	refs   int // kref of cdev->kobj
	dev    device.DevT
	count  uint32
	mapped bool // in the cdev_map (cdev_add without cdev_del)
	added  bool // cdev_add ran once
}

// probe is one kobj_map entry of the cdev_map: a range of numbers and
// the cdev answering it.
type probe struct {
	dev   device.DevT
	count uint32
	cdev  *Cdev
}

// Init is cdev_init: prepare c, a cdev the driver embeds in its own state,
// for h's machine with fops. It holds one reference.
func (c *Cdev) Init(h env.Host, fops *FileOperations) {
	c.e = env.Of(h)
	c.ops = fops
	c.refs = 1
}

// CdevAlloc is cdev_alloc followed by cdev->ops = fops: a cdev of its
// own allocation (a "struct cdev" object of the machine's memory, freed at
// its last reference), holding one reference.
func CdevAlloc(h env.Host, fops *FileOperations) *Cdev {
	c := &Cdev{}
	c.Init(h, fops)
	c.mem = c.e.Memory().Alloc("struct cdev")
	c.dynamic = true
	return c
}

// EmbedIn tells the sanitizer that the cdev lives inside obj, the driver's
// allocation that embeds it (container_of(inode->i_cdev, struct my_dev,
// cdev)): every touch of the cdev (cdev_add, cdev_del, chrdev_open's
// cdev_get, __fput's cdev_put) is an access of obj, so a driver that frees
// obj while a file still holds the cdev gets KASAN's use-after-free at
// that file's last fput. Call it after Init, before Add.
func (c *Cdev) EmbedIn(obj *env.Object) { c.mem = obj }

// SetParent is cdev_set_parent: the cdev holds a reference on dev from
// Add to its release, so that the structure dev's release frees (the one
// embedding the cdev) outlives every open file. DeviceAdd sets it.
func (c *Cdev) SetParent(dev *device.Device) { c.parent = dev }

// Ops returns the cdev's file operations (cdev->ops).
func (c *Cdev) Ops() *FileOperations { return c.ops }

// Devt returns the first number of the cdev's range (cdev->dev), 0 before
// Add.
func (c *Cdev) Devt() device.DevT {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dev
}

// Refs returns the cdev's reference count (kref_read of its kobject).
func (c *Cdev) Refs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refs
}

// touch checks an access to the cdev's memory.
func (c *Cdev) touch(what string) {
	if c.mem != nil {
		c.mem.Access(what)
	}
}

func (c *Cdev) where() string {
	if c.parent != nil {
		return c.parent.Path()
	}
	return ""
}

func (c *Cdev) emit(kind trace.Kind, fn, msg string) {
	c.e.Log().Emit(trace.Event{Kind: kind, Dev: c.where(), Func: fn, Msg: msg})
}

func rangeString(dev device.DevT, count uint32) string {
	if count == 1 {
		return dev.String()
	}
	return fmt.Sprintf("%s-%d", dev, dev.Minor()+count-1)
}

// Add is cdev_add: the cdev answers opens of count numbers from dev from
// now on (kobj_map into the cdev_map: where ranges overlap, the smallest,
// then the newest, wins). With a parent it takes a reference on it. A
// cdev that was never initialized, is added already, or a range of zero
// numbers or past the last major gives ErrInvalid or ErrBusy and a
// trace.Warn. The kernel does not require the numbers to be registered
// (RegisterRegion), though drivers should.
func (c *Cdev) Add(dev device.DevT, count int) error {
	if c.e == nil {
		return fmt.Errorf("cdev_add %s: cdev not initialized (cdev_init): %w", dev, ErrInvalid)
	}
	c.touch("cdev_add: cdev->dev")
	m := machineOf(c.e)
	if count <= 0 || uint64(dev)+uint64(count) > uint64(device.MkDev(device.MajorMax-1, device.MinorMask))+1 {
		c.emit(trace.Warn, "cdev_add", fmt.Sprintf("%s, %d numbers: out of range: -EINVAL", dev, count))
		return fmt.Errorf("cdev_add %s+%d: %w", dev, count, ErrInvalid)
	}
	c.mu.Lock()
	if c.added || c.refs <= 0 {
		c.mu.Unlock()
		c.emit(trace.Warn, "cdev_add", fmt.Sprintf("%s: cdev added already or released", dev))
		return fmt.Errorf("cdev_add %s: cdev added already: %w", dev, ErrBusy)
	}
	c.added, c.mapped = true, true
	c.dev, c.count = dev, uint32(count)
	c.mu.Unlock()
	m.mu.Lock()
	p := &probe{dev: dev, count: uint32(count), cdev: c}
	i := 0
	for i < len(m.cdevMap) && m.cdevMap[i].count < p.count {
		i++
	}
	m.cdevMap = append(m.cdevMap, nil)
	copy(m.cdevMap[i+1:], m.cdevMap[i:])
	m.cdevMap[i] = p
	m.mu.Unlock()
	if c.parent != nil {
		c.parent.Get() // kobject_get(p->kobj.parent)
	}
	msg := rangeString(dev, uint32(count))
	if c.name != "" {
		msg += " " + c.name
	}
	c.emit(Kind, "cdev_add", msg)
	return nil
}

// Del is cdev_del: the cdev's numbers are unmapped, so that opens from now
// on fail with ErrNoDeviceOrAddress, and the first reference is dropped.
// Files already open are not affected: they keep the operations they were
// opened with, and their cdev references, until their last fput. Unless
// the cdev's operations are an Active's proxy (Init with Active.Fops): then
// Del revokes them first (cdev_revoke, a proposal, not mainline): it waits
// for the operations in flight, releases the open files and detaches them
// from the cdev, so that when Del returns no file holds the cdev and no
// operation of the driver runs again.
func (c *Cdev) Del() {
	c.touch("cdev_del: kobject_put(&cdev->kobj)")
	c.mu.Lock()
	mapped := c.mapped
	c.mapped = false
	dev, count := c.dev, c.count
	c.mu.Unlock()
	if mapped {
		m := machineOf(c.e)
		m.mu.Lock()
		for i, p := range m.cdevMap {
			if p.cdev == c {
				m.cdevMap = append(m.cdevMap[:i], m.cdevMap[i+1:]...)
				break
			}
		}
		m.mu.Unlock()
		c.emit(Kind, "cdev_del", fmt.Sprintf("%s, %d file reference(s) left", rangeString(dev, count), c.Refs()-1))
	}
	if c.ops != nil && c.ops.active != nil {
		c.ops.active.Revoke()
	}
	c.put("cdev_del: kobject_put")
}

// tryGet takes a reference unless the cdev is released (kobject_get on a
// live kobject); it does not check the memory (see get).
func (c *Cdev) tryGet() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refs <= 0 {
		return false
	}
	c.refs++
	return true
}

// put is cdev_put / kobject_put: the last reference releases the cdev
// (cdev_default_release or cdev_dynamic_release): its parent is put and a
// CdevAlloc'ed cdev's memory freed. A put past zero is the kobject's
// refcount underflow: a trace.Warn.
func (c *Cdev) put(what string) {
	c.touch(what)
	c.mu.Lock()
	if c.refs <= 0 {
		c.mu.Unlock()
		c.emit(trace.Warn, "kobject_put", "cdev: refcount underflow (put after release)")
		return
	}
	c.refs--
	last := c.refs == 0
	c.mu.Unlock()
	if !last {
		return
	}
	if c.added && c.parent != nil {
		_ = c.parent.Put()
	}
	if c.dynamic {
		c.mem.Free()
	}
}

// lookup is kobj_lookup on the cdev_map plus exact_lock's cdev_get: the
// cdev answering dev, with a reference taken, or nil. The cdev's memory
// is checked once the map's lock is dropped.
func (m *machine) lookup(dev device.DevT) *Cdev {
	m.mu.Lock()
	var c *Cdev
	for _, p := range m.cdevMap {
		if dev >= p.dev && uint64(dev) < uint64(p.dev)+uint64(p.count) && p.cdev.tryGet() {
			c = p.cdev
			break
		}
	}
	m.mu.Unlock()
	if c != nil {
		c.touch("chrdev_open: cdev_get")
	}
	return c
}

// DeviceAdd is cdev_device_add: for a device with a number (WithDevt),
// the cdev becomes dev's child (SetParent) and is added for that one
// number, then dev is added to the driver core of its machine
// (device_add), which creates its /dev node; without a number it is
// device_add alone. dev must be initialized (device_initialize). If
// device_add fails the cdev is deleted again; as the kernel warns, a
// process may have opened it in between.
func (c *Cdev) DeviceAdd(dev *device.Device) error {
	core := bus.CoreOf(dev)
	if core == nil {
		return fmt.Errorf("cdev_device_add %s: device not initialized by a driver core: %w", dev.Path(), ErrInvalid)
	}
	if n := dev.Devt(); n != 0 {
		c.SetParent(dev)
		if err := c.Add(n, 1); err != nil {
			return err
		}
	}
	if err := core.AddDevice(dev); err != nil {
		if dev.Devt() != 0 {
			c.Del()
		}
		return err
	}
	return nil
}

// DeviceDel is cdev_device_del: device_del(dev), which removes its /dev
// node, then cdev_del when it has a number. Files already open keep
// calling the cdev's operations afterwards.
func (c *Cdev) DeviceDel(dev *device.Device) {
	if core := bus.CoreOf(dev); core != nil {
		if err := core.DeleteDevice(dev); err != nil {
			c.emit(trace.Warn, "cdev_device_del", err.Error())
		}
	}
	if dev.Devt() != 0 {
		c.Del()
	}
}
