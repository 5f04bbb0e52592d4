package drmsim_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/trace"
)

// Register, open, the ioctl table, mmap, close, unbind: the ordinary life.
func TestLifecycleRegisterOpenIoctlClose(t *testing.T) {
	r := newRig(t, nil, false)
	defer r.sys.Close()
	d := r.g.drm
	assert.True(t, d.Registered())
	assert.Equal(t, []string{"card0"}, r.class.Nodes())
	assert.Equal(t, "/sys/devices/platform/gpu/drm/card0", d.Path())
	assert.Equal(t, int64(1), d.Refs(), "the devm reference")
	node, ok := r.sys.LookupDevNode("/dev/dri/card0")
	require.True(t, ok, "drm_minor_register's device_add made the node")
	assert.Equal(t, device.MkDev(drmsim.Major, 0), node.Devt)
	assert.Same(t, d.Primary().Kdev(), node.Dev)
	assert.Equal(t, "drm", node.Dev.ClassName())
	assert.Same(t, r.class, drmsim.NewClass(r.sys), "one DRM core per machine")

	f, h := openBuffer(t, r.class)
	assert.Equal(t, "/dev/dri/card0", f.Filp().Path())
	assert.Equal(t, int64(2), d.Refs())
	assert.Equal(t, 1, d.Files())
	v := &drmsim.VersionArgs{}
	require.NoError(t, f.Ioctl(drmsim.IoctlVersion, v))
	assert.Equal(t, drmsim.VersionArgs{Major: 1, Minor: 2, Patchlevel: 3, Name: "gpu", Desc: "toy gpu"}, *v)
	md := &drmsim.MapDumbArgs{Handle: h}
	require.NoError(t, f.Ioctl(drmsim.IoctlMapDumb, md))
	m, err := f.Mmap(md.Offset)
	require.NoError(t, err)
	require.NoError(t, m.Write(0, []byte{1, 2, 3, 4}))
	require.NoError(t, f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: h}))
	assert.Equal(t, 1, r.g.flushes)

	// Errors of the table.
	assert.ErrorIs(t, f.Ioctl(0x77, nil), drmsim.ErrInvalid)
	assert.ErrorIs(t, f.Ioctl(drmsim.IoctlMapDumb, &drmsim.MapDumbArgs{Handle: 99}), drmsim.ErrNoEntry)
	assert.ErrorIs(t, f.Ioctl(drmsim.IoctlVersion, "not a struct"), drmsim.ErrInvalid)
	assert.ErrorIs(t, f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: h, Clip: drmsim.Rect{X1: 0, Y1: 0, X2: 65, Y2: 1}}), drmsim.ErrInvalid)
	assert.ErrorIs(t, f.Ioctl(drmsim.IoctlCreateDumb, &drmsim.CreateDumbArgs{Width: 1, Height: 1, BPP: 3}), drmsim.ErrInvalid)
	_, err = f.Mmap(0xdead000)
	assert.ErrorIs(t, err, drmsim.ErrNoEntry)

	// close(2) with a mapping still there: drm_release waits for munmap.
	require.NoError(t, f.Close())
	assert.False(t, f.Released())
	assert.ErrorIs(t, f.Close(), drmsim.ErrBadFile)
	assert.ErrorIs(t, f.Ioctl(drmsim.IoctlVersion, v), drmsim.ErrBadFile)
	m.Unmap()
	m.Unmap()
	assert.True(t, f.Released())
	assert.Equal(t, int64(1), d.Refs())

	// Unbind: remove unplugs, devm drops the last reference.
	seq := r.sys.Log().Seq()
	require.NoError(t, r.sys.UnregisterDevice(r.dev))
	assert.True(t, d.Released())
	assert.Empty(t, r.class.Nodes())
	assert.Empty(t, r.class.Memory().Reports(), "no sanitizer report")
	assert.Empty(t, r.class.Memory().Leaks())
	assert.Equal(t, []string{
		"drm_dev_unplug /sys/devices/platform/gpu/drm/card0: unplugged, waiting for drm_dev_enter sections",
		"drm_dev_unplug /sys/devices/platform/gpu/drm/card0: every drm_dev_enter section has ended",
		"drm_dev_unregister /sys/devices/platform/gpu/drm/card0",
		"drm_minor_unregister /sys/devices/platform/gpu/drm/card0: /dev/dri/card0",
		"unmap_mapping_range /sys/devices/platform/gpu/drm/card0: 0 user mappings zapped",
		"drm_dev_put /sys/devices/platform/gpu/drm/card0: refs=0",
		"drm_dev_release /sys/devices/platform/gpu/drm/card0: last reference dropped",
		"drm_managed_release /sys/devices/platform/gpu/drm/card0: 3 entries",
		"drm_managed_release /sys/devices/platform/gpu/drm/card0: REL gpu_modeset_cleanup",
		"drm_managed_release /sys/devices/platform/gpu/drm/card0: REL drm_minor_alloc_release card0",
		"drm_managed_release /sys/devices/platform/gpu/drm/card0: REL drm_dev_init_release",
	}, shorts(r.sys.Log(), seq, drmsim.KindDevice, drmsim.KindManaged))
}

// A hot unplug with a file open: ioctls and new mmaps fail, close
// works, the drm device is freed at the last close, and its drmm actions
// run then, after every devm action of the parent.
func TestUnplugWithOpenFileDevmThenDrmm(t *testing.T) {
	r := newRig(t, nil, false)
	defer r.sys.Close()
	d := r.g.drm
	f, h := openBuffer(t, r.class)
	md := &drmsim.MapDumbArgs{Handle: h}
	require.NoError(t, f.Ioctl(drmsim.IoctlMapDumb, md))
	m, err := f.Mmap(md.Offset)
	require.NoError(t, err)

	require.NoError(t, r.sys.UnregisterDevice(r.dev)) // unbind: remove -> drm_dev_unplug, then devres
	assert.True(t, d.Unplugged())
	assert.True(t, d.IsUnplugged())
	assert.False(t, d.Registered())
	assert.False(t, d.Released(), "the open file keeps the drm device")
	assert.Equal(t, int64(1), d.Refs())
	assert.Equal(t, []string{"devm gpu_iounmap"}, r.g.log, "devm ran at unbind, drmm not yet")
	assert.True(t, m.Zapped())

	for _, cmd := range []drmsim.Cmd{drmsim.IoctlVersion, drmsim.IoctlDirtyFB, drmsim.IoctlCreateDumb, drmsim.IoctlMapDumb} {
		err := f.Ioctl(cmd, nil)
		assert.ErrorIs(t, err, drmsim.ErrNoDevice, "cmd %#x", cmd)
		assert.True(t, errors.Is(err, drmsim.ErrNoDevice))
	}
	require.NoError(t, m.Write(0, []byte{1}), "the shmem fault handler maps the pages again")
	_, err = r.class.Open("card0")
	assert.ErrorIs(t, err, drmsim.ErrNoEntry, "the node is gone")
	_, err = chardev.OpenDevt(r.sys, device.MkDev(drmsim.Major, 0))
	assert.ErrorIs(t, err, drmsim.ErrNoDevice, "the minor is unregistered: drm_stub_open's drm_minor_acquire")
	_, err = f.Mmap(md.Offset)
	assert.ErrorIs(t, err, drmsim.ErrNoDevice)
	assert.Equal(t, 0, r.g.flushes)
	assert.ErrorIs(t, d.Register(), drmsim.ErrNoDevice, "an unplugged device cannot come back")

	seq := r.sys.Log().Seq()
	require.NoError(t, f.Close())
	assert.False(t, d.Released(), "the mapping holds the file")
	m.Unmap()
	assert.True(t, d.Released())
	assert.Equal(t, []string{"devm gpu_iounmap", "drmm gpu_modeset_cleanup"}, r.g.log)
	assert.Equal(t, []string{
		"drm_release /sys/devices/platform/gpu/drm/card0: file 1",
		"drm_gem_release /sys/devices/platform/gpu/drm/card0: file 1: 1 handles",
		"drm_gem_object_free /sys/devices/platform/gpu/drm/card0: gem 2",
		"drm_dev_put /sys/devices/platform/gpu/drm/card0: refs=0",
		"drm_dev_release /sys/devices/platform/gpu/drm/card0: last reference dropped",
		"drm_managed_release /sys/devices/platform/gpu/drm/card0: 3 entries",
		"drm_managed_release /sys/devices/platform/gpu/drm/card0: REL gpu_modeset_cleanup",
		"drm_managed_release /sys/devices/platform/gpu/drm/card0: REL drm_minor_alloc_release card0",
		"drm_managed_release /sys/devices/platform/gpu/drm/card0: REL drm_dev_init_release",
	}, shorts(r.sys.Log(), seq, drmsim.KindDevice, drmsim.KindManaged, drmsim.KindFile, drmsim.KindGEM))
	assert.Empty(t, r.class.Memory().Reports())
	assert.Empty(t, r.class.Memory().Leaks())

	// devm (at unbind) strictly before drmm (at the last close), in the trace.
	var devm, drmm uint64
	for _, e := range r.sys.Events() {
		if e.Func == "devm_action_release" && e.Msg == "gpu_iounmap" {
			devm = e.Seq
		}
		if e.Func == "drm_managed_release" && e.Msg == "REL gpu_modeset_cleanup" {
			drmm = e.Seq
		}
	}
	require.NotZero(t, devm)
	assert.Greater(t, drmm, devm)
}

// drm_dev_register twice, registering an unplugged device, reference
// misuse, drmm after release, use after release.
func TestMisuse(t *testing.T) {
	r := newRig(t, nil, false)
	defer r.sys.Close()
	d := r.g.drm
	assert.ErrorIs(t, d.Register(), drmsim.ErrExist)
	v, err := drmsim.Kzalloc[int](d, "udl_state")
	require.NoError(t, err)
	v.Store("probe", 7)
	assert.ErrorIs(t, d.AddAction("nil", nil), drmsim.ErrInvalid)
	assert.Contains(t, d.ManagedActions(), "kfree udl_state")
	require.NoError(t, r.sys.UnregisterDevice(r.dev))
	require.True(t, d.Released())
	assert.ErrorIs(t, d.AddAction("late", func() {}), drmsim.ErrNoDevice)
	d.Put() // underflow: warned, ignored
	assert.Equal(t, int64(0), d.Refs())
	warns := trace.Filter(r.sys.Events(), trace.OfKind(trace.Warn))
	require.Len(t, warns, 2)
	assert.Equal(t, "drm_dev_put", warns[1].Func)
	assert.Empty(t, r.class.Memory().Reports())
	v.Load("after release") // drmm_kzalloc memory is gone with the device
	_ = d.Register()        // and so is the drm_device
	reps := r.class.Memory().Reports()
	require.Len(t, reps, 2)
	assert.Equal(t, "BUG: KASAN: use-after-free in after release", reps[0].Title)
	assert.Equal(t, "BUG: KASAN: use-after-free in drm_dev_register", reps[1].Title)

	_, err = drmsim.DevAlloc(r.class, &drmsim.Driver{}, r.dev)
	assert.ErrorIs(t, err, drmsim.ErrInvalid)
	_, err = drmsim.DevAlloc(r.class, nil, r.dev)
	assert.ErrorIs(t, err, drmsim.ErrInvalid)
}

// devm_drm_dev_alloc whose devres entry cannot be added drops its
// reference at once.
func TestDevmAllocFailure(t *testing.T) {
	r := newRig(t, nil, false)
	defer r.sys.Close()
	r.dev.Devres().SetFaultHook(func(string) error { return errors.New("injected") })
	defer r.dev.Devres().SetFaultHook(nil)
	d, err := drmsim.DevmDevAlloc(r.class, &drmsim.Driver{Name: "x"}, r.dev)
	assert.ErrorIs(t, err, drmsim.ErrNoMemory)
	assert.ErrorIs(t, err, devres.ErrNoMemory)
	assert.Nil(t, d)
	assert.Equal(t, []string{"card0"}, r.class.Nodes(), "card1 was reserved then released")
	d2, err := drmsim.DevAlloc(r.class, &drmsim.Driver{Name: "y"}, r.dev)
	require.NoError(t, err)
	assert.Equal(t, "card1", d2.Primary().Name(), "the failed device's index was given back")
	d2.Put()
	assert.True(t, d2.Released())
}

// A store through a mapping after drm_dev_unplug: unmap_mapping_range
// zapped it, so the store faults, and drm_gem_shmem_fault (which does not
// check drm_dev_enter) inserts the object's pages again: the store lands
// in the object, no signal. Past the end of the object it is SIGBUS, after
// munmap SIGSEGV (ErrFault for both).
func TestMappingAfterUnplugRefaults(t *testing.T) {
	r := newRig(t, nil, false)
	defer r.sys.Close()
	f, h := openBuffer(t, r.class)
	md := &drmsim.MapDumbArgs{Handle: h}
	require.NoError(t, f.Ioctl(drmsim.IoctlMapDumb, md))
	bo, err := f.Lookup(h)
	require.NoError(t, err)
	seq := r.sys.Log().Seq()
	m, err := f.Mmap(md.Offset)
	require.NoError(t, err)
	require.NoError(t, m.Write(0, []byte{1}))
	require.NoError(t, m.Write(1, []byte{2})) // already mapped: no fault
	require.NoError(t, r.sys.UnregisterDevice(r.dev))
	assert.True(t, m.Zapped())
	require.NoError(t, m.Write(2, []byte{3}))
	require.NoError(t, m.Write(3, []byte{4}))
	assert.Equal(t, []byte{1, 2, 3, 4}, bo.Bytes("test: read back")[:4])
	assert.ErrorIs(t, m.Write(bo.Size(), []byte{5}), drmsim.ErrFault, "past the end: SIGBUS")
	assert.Equal(t, []string{
		"drm_gem_mmap /sys/devices/platform/gpu/drm/card0: file 1 gem 2 offset=0x2000",
		"drm_gem_shmem_fault /sys/devices/platform/gpu/drm/card0: file 1 gem 2: pages inserted",
		"drm_dev_unplug /sys/devices/platform/gpu/drm/card0: unplugged, waiting for drm_dev_enter sections",
		"drm_dev_unplug /sys/devices/platform/gpu/drm/card0: every drm_dev_enter section has ended",
		"drm_dev_unregister /sys/devices/platform/gpu/drm/card0",
		"drm_minor_unregister /sys/devices/platform/gpu/drm/card0: /dev/dri/card0",
		"unmap_mapping_range /sys/devices/platform/gpu/drm/card0: 1 user mappings zapped",
		"drm_dev_put /sys/devices/platform/gpu/drm/card0: refs=1",
		"drm_gem_shmem_fault /sys/devices/platform/gpu/drm/card0: file 1 gem 2: refault after unmap_mapping_range, pages inserted again (no drm_dev_enter check)",
	}, shorts(r.sys.Log(), seq, drmsim.KindDevice, drmsim.KindGEM))
	m.Unmap()
	assert.ErrorIs(t, m.Write(0, []byte{6}), drmsim.ErrFault, "after munmap: SIGSEGV")
	require.NoError(t, f.Close())
	assert.True(t, f.Device().Released())
	assert.Empty(t, r.class.Memory().Reports())
	assert.Empty(t, r.class.Memory().Leaks())
}

// drm_minor_alloc hands out indexes 0-63 to primary minors; the 65th
// device fails with -ENOSPC, and an index is free again once its device
// is released.
func TestPrimaryMinorsBounded(t *testing.T) {
	r := newRig(t, nil, false)
	defer r.sys.Close()
	var ds []*drmsim.Device
	for i := 1; i < drmsim.MaxPrimaryMinors; i++ {
		d, err := drmsim.DevAlloc(r.class, &drmsim.Driver{Name: "more"}, r.dev)
		require.NoError(t, err)
		ds = append(ds, d)
	}
	assert.Equal(t, "card63", ds[len(ds)-1].Primary().Name())
	_, err := drmsim.DevAlloc(r.class, &drmsim.Driver{Name: "more"}, r.dev)
	assert.ErrorIs(t, err, drmsim.ErrNoSpace)
	ds[4].Put() // card5 released
	d, err := drmsim.DevAlloc(r.class, &drmsim.Driver{Name: "more"}, r.dev)
	require.NoError(t, err)
	assert.Equal(t, "card5", d.Primary().Name())
	d.Put()
	for i, x := range ds {
		if i != 4 {
			x.Put()
		}
	}
}
