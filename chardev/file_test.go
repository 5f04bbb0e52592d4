package chardev_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// echo is a driver's file operations: reads return what the last write
// stored (in the file's private data), ioctl 1 answers the count of
// opens, and every call is counted.
type echo struct {
	opens, releases, flushes int
	openErr                  error
}

func (e *echo) fops() *chardev.FileOperations {
	return &chardev.FileOperations{
		Open: func(f *chardev.File) error {
			if e.openErr != nil {
				return e.openErr
			}
			e.opens++
			f.Private = []byte("hello")
			return nil
		},
		Read: func(f *chardev.File, n int) ([]byte, error) {
			b := f.Private.([]byte)
			return b[:min(n, len(b))], nil
		},
		Write: func(f *chardev.File, p []byte) (int, error) {
			f.Private = append([]byte(nil), p...)
			return len(p), nil
		},
		UnlockedIoctl: func(f *chardev.File, cmd uint, _ any) (int, error) {
			if cmd != 1 {
				return 0, chardev.ErrNoTTY
			}
			return e.opens, nil
		},
		Poll:    func(*chardev.File) chardev.PollMask { return chardev.PollIn },
		Flush:   func(*chardev.File) error { e.flushes++; return nil },
		Release: func(*chardev.File) error { e.releases++; return nil },
	}
}

// The whole path of a character driver on a platform device: numbers, a
// cdev, a class and its device, the /dev node, open, the file's calls
// through the driver's operations, close and the teardown.
func TestCharDeviceLifecycle(t *testing.T) {
	sys := newSystem(t)
	parent := sys.NewPlatformDevice("sensor")
	require.NoError(t, sys.RegisterDevice(parent))
	devt, err := chardev.AllocRegion(sys, 0, 1, "sensor")
	require.NoError(t, err)
	e := &echo{}
	cdev := chardev.CdevAlloc(parent, e.fops())
	require.NoError(t, cdev.Add(devt, 1))
	class, err := chardev.CreateClass(sys, "sensor")
	require.NoError(t, err)
	cls, err := class.CreateDevice(parent, devt, "drvdata", "sensor%d", 0)
	require.NoError(t, err)
	assert.Equal(t, "/sys/devices/platform/sensor/sensor/sensor0", cls.Path())
	assert.Equal(t, "drvdata", cls.Drvdata())
	assert.Same(t, cls, class.FindDeviceByDevt(devt))
	assert.Equal(t, []*device.Device{cls}, class.Devices())
	node, ok := sys.LookupDevNode("/dev/sensor0")
	require.True(t, ok)
	assert.Equal(t, devt, node.Devt)
	assert.Equal(t, "/dev/sensor0", node.Path())

	seq := sys.Log().Seq()
	f, err := chardev.Open(sys, "/dev/sensor0")
	require.NoError(t, err)
	assert.Equal(t, devt, f.Devt())
	assert.Equal(t, 2, cdev.Refs(), "the file holds the cdev")
	b, err := f.Read(3)
	require.NoError(t, err)
	assert.Equal(t, "hel", string(b))
	n, err := f.Write([]byte("bye"))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	b, err = f.Read(64)
	require.NoError(t, err)
	assert.Equal(t, "bye", string(b))
	n, err = f.Ioctl(1, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = f.Ioctl(7, nil)
	assert.ErrorIs(t, err, chardev.ErrNoTTY)
	mask, err := f.Poll()
	require.NoError(t, err)
	assert.Equal(t, chardev.PollIn, mask)
	_, err = f.Read(-1)
	assert.ErrorIs(t, err, chardev.ErrInvalid)
	_, err = f.Mmap(0)
	assert.ErrorIs(t, err, chardev.ErrNoDevice, "no mmap operation")
	require.NoError(t, f.Close())
	assert.Equal(t, 1, e.flushes)
	assert.Equal(t, 1, e.releases)
	assert.True(t, f.Released())
	assert.Equal(t, 1, cdev.Refs())
	assert.ErrorIs(t, f.Close(), chardev.ErrBadFile)
	_, err = f.Read(1)
	assert.ErrorIs(t, err, chardev.ErrBadFile)
	assert.Equal(t, []string{
		"chrdev_open /dev/sensor0: 0",
		"vfs_read /dev/sensor0: 3 bytes",
		"vfs_write /dev/sensor0: 3 bytes",
		"vfs_read /dev/sensor0: 3 bytes",
		"vfs_ioctl /dev/sensor0: cmd 0x1: 1",
		"vfs_ioctl /dev/sensor0: cmd 0x7: -ENOTTY",
		"vfs_poll /dev/sensor0: mask 0x1",
		"vfs_read /dev/sensor0: -EINVAL",
		"__fput /dev/sensor0: release 0",
	}, trace.Shorts(trace.Filter(sys.Log().Since(seq), trace.OfKind(chardev.Kind))))

	class.DestroyDevice(devt)
	_, ok = sys.LookupDevNode("/dev/sensor0")
	assert.False(t, ok, "device_destroy removed the node")
	class.DestroyDevice(devt) // nothing left: nothing happens
	cdev.Del()
	chardev.UnregisterRegion(sys, devt, 1)
	require.NoError(t, class.Destroy())
	assert.ErrorIs(t, class.Destroy(), chardev.ErrInvalid)
	assert.Empty(t, sys.Memory().Live(), "the cdev_alloc'ed cdev is freed at its last reference")
	assert.Empty(t, warns(sys))
}

// cdev_del with a file open: new opens fail with -ENXIO, the open file
// keeps calling the old operations, and the cdev is released only at the
// file's last fput, after the driver's release.
func TestCdevDelWithFileOpen(t *testing.T) {
	sys := newSystem(t)
	e := &echo{}
	cdev := chardev.CdevAlloc(sys, e.fops())
	devt := device.MkDev(240, 0)
	require.NoError(t, cdev.Add(devt, 2))
	f, err := chardev.OpenDevt(sys, devt+1)
	require.NoError(t, err)
	assert.Equal(t, "/dev/char/240:1", f.Path())
	assert.Equal(t, 1, f.Minor())
	cdev.Del()
	_, err = chardev.OpenDevt(sys, devt)
	assert.ErrorIs(t, err, chardev.ErrNoDeviceOrAddress)
	b, err := f.Read(5)
	require.NoError(t, err, "the open file still reaches the driver")
	assert.Equal(t, "hello", string(b))
	assert.Len(t, sys.Memory().Live(), 1, "the struct cdev lives while the file holds it")
	require.NoError(t, f.Close())
	assert.Empty(t, sys.Memory().Live())
	assert.Equal(t, []string{
		"cdev_add: 240:0-1",
		"chrdev_open /dev/char/240:1: 0",
		"cdev_del: 240:0-1, 1 file reference(s) left",
		"chrdev_open /dev/char/240:0: -ENXIO",
		"vfs_read /dev/char/240:1: 5 bytes",
		"__fput /dev/char/240:1: release 0",
	}, trace.Shorts(trace.Filter(sys.Events(), trace.OfKind(chardev.Kind))))
}

// Every system call holds a reference on the file: a close while one is in
// flight leaves the release to it, and get_file/fput references keep the
// file after the descriptor's close.
func TestFileReferences(t *testing.T) {
	sys := newSystem(t)
	var f *chardev.File
	var closeErr error
	released := 0
	fops := &chardev.FileOperations{
		Read: func(f *chardev.File, n int) ([]byte, error) {
			closeErr = f.Close() // another thread closes the descriptor meanwhile
			return nil, nil
		},
		Release: func(*chardev.File) error { released++; return nil },
	}
	cdev := chardev.CdevAlloc(sys, fops)
	require.NoError(t, cdev.Add(device.MkDev(241, 0), 1))
	f, err := chardev.OpenDevt(sys, device.MkDev(241, 0))
	require.NoError(t, err)
	_, err = f.Read(1)
	require.NoError(t, err)
	require.NoError(t, closeErr)
	assert.Equal(t, 1, released, "the read's fdput was the last reference")

	g, err := chardev.OpenDevt(sys, device.MkDev(241, 0))
	require.NoError(t, err)
	g.Get() // a vma's vm_file
	require.NoError(t, g.Close())
	assert.False(t, g.Released())
	g.Put()
	assert.True(t, g.Released())
	assert.Equal(t, 2, released)
	g.Put() // one too many
	g.Get() // on a released file
	assert.Equal(t, []string{"fput /dev/char/241:0: reference count underflow", "get_file /dev/char/241:0: reference on a released file"}, warns(sys))
	cdev.Del()
}

// A failed open returns the driver's error, runs no release and drops the
// cdev reference; opening a path without a node is -ENOENT.
func TestOpenFailures(t *testing.T) {
	sys := newSystem(t)
	e := &echo{openErr: chardev.ErrNoDevice}
	cdev := chardev.CdevAlloc(sys, e.fops())
	require.NoError(t, cdev.Add(device.MkDev(242, 0), 1))
	_, err := chardev.OpenDevt(sys, device.MkDev(242, 0))
	assert.ErrorIs(t, err, chardev.ErrNoDevice)
	assert.Equal(t, 0, e.releases)
	assert.Equal(t, 1, cdev.Refs())
	_, err = chardev.Open(sys, "/dev/nothing")
	assert.ErrorIs(t, err, chardev.ErrNoEntry)
	_, err = chardev.Open(sys, "relative")
	assert.ErrorIs(t, err, chardev.ErrNoEntry)

	// A file without operations: read and write are -EINVAL, ioctl is
	// -ENOTTY, poll is the default mask, close works.
	bare := chardev.CdevAlloc(sys, nil)
	require.NoError(t, bare.Add(device.MkDev(243, 0), 1))
	f, err := chardev.OpenDevt(sys, device.MkDev(243, 0))
	require.NoError(t, err)
	_, err = f.Read(1)
	assert.ErrorIs(t, err, chardev.ErrInvalid)
	_, err = f.Write([]byte("x"))
	assert.ErrorIs(t, err, chardev.ErrInvalid)
	_, err = f.Ioctl(1, nil)
	assert.ErrorIs(t, err, chardev.ErrNoTTY)
	mask, err := f.Poll()
	require.NoError(t, err)
	assert.Equal(t, chardev.DefaultPollMask, mask)
	require.NoError(t, f.Close())
	bare.Del()
	cdev.Del()
	assert.Empty(t, sys.Memory().Live())
}

// Misuse of a cdev is refused with an errno and a warning, state intact.
func TestCdevMisuse(t *testing.T) {
	sys := newSystem(t)
	var zero chardev.Cdev
	assert.ErrorIs(t, zero.Add(device.MkDev(244, 0), 1), chardev.ErrInvalid, "cdev_init first")
	c := chardev.CdevAlloc(sys, nil)
	assert.ErrorIs(t, c.Add(device.MkDev(244, 0), 0), chardev.ErrInvalid)
	assert.ErrorIs(t, c.Add(device.MkDev(device.MajorMax-1, device.MinorMask), 2), chardev.ErrInvalid)
	require.NoError(t, c.Add(device.MkDev(244, 0), 1))
	assert.ErrorIs(t, c.Add(device.MkDev(245, 0), 1), chardev.ErrBusy)
	c.Del()
	c.Del() // the second put is a refcount underflow
	assert.Contains(t, warns(sys), "kobject_put: cdev: refcount underflow (put after release)")
	assert.Empty(t, sys.Memory().Live())
}

// Where cdev ranges overlap, the smallest answers (kobj_map).
func TestCdevMapSmallestRangeWins(t *testing.T) {
	sys := newSystem(t)
	whole := chardev.CdevAlloc(sys, &chardev.FileOperations{Open: func(f *chardev.File) error { f.Private = "whole"; return nil }})
	one := chardev.CdevAlloc(sys, &chardev.FileOperations{Open: func(f *chardev.File) error { f.Private = "one"; return nil }})
	require.NoError(t, whole.Add(device.MkDev(246, 0), 256))
	require.NoError(t, one.Add(device.MkDev(246, 7), 1))
	for minor, want := range map[uint32]string{6: "whole", 7: "one", 8: "whole"} {
		f, err := chardev.OpenDevt(sys, device.MkDev(246, minor))
		require.NoError(t, err)
		assert.Equal(t, want, f.Private, "minor %d", minor)
		require.NoError(t, f.Close())
	}
	one.Del()
	f, err := chardev.OpenDevt(sys, device.MkDev(246, 7))
	require.NoError(t, err)
	assert.Equal(t, "whole", f.Private)
	require.NoError(t, f.Close())
	whole.Del()
}

// Mmap: the driver's mapping holds a reference on the file until its
// unmap puts it.
func TestMmapHoldsTheFile(t *testing.T) {
	sys := newSystem(t)
	type vma struct{ f *chardev.File }
	c := chardev.CdevAlloc(sys, &chardev.FileOperations{
		Mmap: func(f *chardev.File, off uint64) (any, error) {
			if off != 0 {
				return nil, chardev.ErrInvalid
			}
			return &vma{f}, nil
		},
	})
	require.NoError(t, c.Add(device.MkDev(247, 0), 1))
	f, err := chardev.OpenDevt(sys, device.MkDev(247, 0))
	require.NoError(t, err)
	_, err = f.Mmap(4096)
	assert.ErrorIs(t, err, chardev.ErrInvalid)
	m, err := f.Mmap(0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.False(t, f.Released(), "the mapping holds the file")
	m.(*vma).f.Put() // munmap
	assert.True(t, f.Released())
	c.Del()
}

// Classes: unique names per machine, bounded names, a devnode, devices
// without a parent under /sys/devices/virtual, duplicate device names
// refused, and a class with devices cannot go.
func TestClasses(t *testing.T) {
	sys := newSystem(t)
	c, err := chardev.CreateClass(sys, "input", chardev.WithDevnode(func(d *device.Device) string { return "input/" + d.Name() }))
	require.NoError(t, err)
	_, err = chardev.CreateClass(sys, "input")
	assert.ErrorIs(t, err, chardev.ErrExist)
	for _, bad := range []string{"", "a/b", string(make([]byte, 256))} {
		_, err = chardev.CreateClass(sys, bad)
		assert.ErrorIs(t, err, chardev.ErrInvalid)
	}
	assert.Equal(t, []*chardev.Class{c}, chardev.Classes(sys))
	assert.Equal(t, "/sys/class/input", c.Path())

	ev, err := c.CreateDevice(nil, device.MkDev(13, 64), nil, "event%d", 0)
	require.NoError(t, err)
	assert.Equal(t, "/sys/devices/virtual/input/event0", ev.Path())
	assert.Equal(t, "input", ev.ClassName())
	_, ok := sys.LookupDevNode("/dev/input/event0")
	assert.True(t, ok)
	_, err = c.CreateDevice(nil, device.MkDev(13, 65), nil, "event0")
	assert.ErrorIs(t, err, chardev.ErrExist)
	_, err = c.CreateDevice(nil, 0, nil, "")
	assert.ErrorIs(t, err, chardev.ErrInvalid)
	assert.ErrorIs(t, c.Destroy(), chardev.ErrBusy)
	assert.Contains(t, warns(sys), "class_unregister /sys/class/input: class still has 1 device(s); device_destroy them first")

	// A '/' in a device name becomes '!' in sysfs and '/' again in /dev.
	plain, err := chardev.CreateClass(sys, "misc")
	require.NoError(t, err)
	d, err := plain.CreateDevice(nil, device.MkDev(10, 1), nil, "bus/%s", "x")
	require.NoError(t, err)
	assert.Equal(t, "bus!x", d.Name())
	_, ok = sys.LookupDevNode("/dev/bus/x")
	assert.True(t, ok)
	// A device without a number has no node.
	_, err = plain.CreateDevice(nil, 0, nil, "nonode")
	require.NoError(t, err)
	var names []string
	for _, n := range sys.DevNodes() {
		names = append(names, n.Name)
	}
	assert.Equal(t, []string{"bus/x", "input/event0"}, names)

	c.DestroyDevice(device.MkDev(13, 64))
	require.NoError(t, c.Destroy())
	_, err = c.CreateDevice(nil, device.MkDev(13, 66), nil, "late")
	assert.ErrorIs(t, err, chardev.ErrInvalid, "class destroyed")
	assert.Equal(t, []*chardev.Class{plain}, chardev.Classes(sys))
}

// A node name taken by another device is left alone, with a warning, as
// devtmpfs's -EEXIST is; the first device keeps it.
func TestDuplicateNodeName(t *testing.T) {
	sys := newSystem(t)
	a, err := chardev.CreateClass(sys, "a")
	require.NoError(t, err)
	b, err := chardev.CreateClass(sys, "b")
	require.NoError(t, err)
	first, err := a.CreateDevice(nil, device.MkDev(20, 0), nil, "same")
	require.NoError(t, err)
	_, err = b.CreateDevice(nil, device.MkDev(21, 0), nil, "same")
	require.NoError(t, err, "device_add ignores devtmpfs's error")
	n, ok := sys.LookupDevNode("/dev/same")
	require.True(t, ok)
	assert.Same(t, first, n.Dev)
	assert.Equal(t, []string{"devtmpfs_create_node /sys/devices/virtual/b/same: /dev/same exists (created by /sys/devices/virtual/a/same, dev 20:0): -EEXIST"}, warns(sys))
	b.DestroyDevice(device.MkDev(21, 0))
	_, ok = sys.LookupDevNode("/dev/same")
	assert.True(t, ok, "not the other device's node to delete")
}

// cdev_device_add: the cdev holds the device until the last file is
// closed; a device_add that fails deletes the cdev again; a device no
// driver core initialized is refused.
func TestCdevDeviceAdd(t *testing.T) {
	sys := newSystem(t)
	class, err := chardev.CreateClass(sys, "gpio")
	require.NoError(t, err)
	released := false
	dev := device.New("gpiochip0", device.WithClass(class), device.WithDevt(device.MkDev(254, 0)),
		device.WithRelease(func(*device.Device) { released = true }))
	var c chardev.Cdev
	c.Init(sys, &chardev.FileOperations{})
	assert.ErrorIs(t, c.DeviceAdd(dev), chardev.ErrInvalid, "device_initialize first")
	require.NoError(t, sys.InitializeDevice(dev))
	require.NoError(t, c.DeviceAdd(dev))
	assert.Equal(t, int64(2), dev.Refs(), "the cdev holds its parent")
	f, err := chardev.Open(sys, "/dev/gpiochip0")
	require.NoError(t, err)
	c.DeviceDel(dev)
	_, ok := sys.LookupDevNode("/dev/gpiochip0")
	assert.False(t, ok)
	require.NoError(t, dev.Put()) // the driver's reference
	assert.False(t, released, "the open file keeps the cdev, the cdev the device")
	require.NoError(t, f.Close())
	assert.True(t, released)

	// device_add fails (its parent is not registered): the cdev is deleted.
	orphanParent := sys.NewPlatformDevice("never-added")
	dev2 := device.New("gpiochip1", device.WithClass(class), device.WithDevt(device.MkDev(254, 1)), device.WithParent(orphanParent),
		device.WithRelease(func(*device.Device) {}))
	require.NoError(t, sys.InitializeDevice(dev2))
	var c2 chardev.Cdev
	c2.Init(sys, &chardev.FileOperations{})
	assert.ErrorIs(t, c2.DeviceAdd(dev2), chardev.ErrNoDevice)
	_, err = chardev.OpenDevt(sys, device.MkDev(254, 1))
	assert.ErrorIs(t, err, chardev.ErrNoDeviceOrAddress)
	assert.Equal(t, 0, c2.Refs())
	assert.Equal(t, int64(1), dev2.Refs(), "the cdev's reference on it is gone")
}
