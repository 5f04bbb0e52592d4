package chardev

import (
	"fmt"
	"sort"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// region is struct char_device_struct: a range of minors of one major
// reserved under a name.
type region struct {
	major     uint32
	baseminor uint32
	count     uint32
	name      string
	cdev      *Cdev // the cdev RegisterChrdev made, freed with the region
}

// Bounds of the number space (fs/char_dev.c, include/linux/fs.h).
const (
	// MaxNameLen bounds a region's name (char_device_struct's name[64]).
	MaxNameLen = 63
	// dynamic majors: 254 down to 234 by hash slot, then 511 down to 384
	// (CHRDEV_MAJOR_DYN_END, CHRDEV_MAJOR_DYN_EXT_START/END).
	majorHashSize     = 255
	dynEnd            = 234
	dynExtStart       = 511
	dynExtEnd         = 384
	chrdevMinorsCount = 256 // register_chrdev's minors: 0-255
)

func (r *region) String() string {
	return fmt.Sprintf("%q %s", r.name, rangeString(device.MkDev(r.major, r.baseminor), r.count))
}

// findDynamicMajor is find_dynamic_major: a hash slot from 254 down to
// 234 that holds no region, then a major from 511 down to 384 that has
// none. Called with m.mu held.
func (m *machine) findDynamicMajor() (uint32, bool) {
	slotUsed := func(i uint32) bool {
		for _, r := range m.regions {
			if r.major%majorHashSize == i {
				return true
			}
		}
		return false
	}
	for i := uint32(majorHashSize - 1); i >= dynEnd; i-- {
		if !slotUsed(i) {
			return i, true
		}
	}
	for i := uint32(dynExtStart); i >= dynExtEnd; i-- {
		used := false
		for _, r := range m.regions {
			if r.major == i {
				used = true
				break
			}
		}
		if !used {
			return i, true
		}
	}
	return 0, false
}

// register is __register_chrdev_region: major 0 asks for a dynamic one.
func (m *machine) register(fn string, major, baseminor, count uint32, name string) (*region, error) {
	switch {
	case name == "" || len(name) > MaxNameLen:
		m.emit(trace.Warn, "", fn, fmt.Sprintf("CHRDEV name %q: want 1 to %d bytes: -EINVAL", name, MaxNameLen))
		return nil, fmt.Errorf("%s %q: bad name: %w", fn, name, ErrInvalid)
	case major >= device.MajorMax:
		m.emit(trace.Warn, "", fn, fmt.Sprintf("CHRDEV %q major requested (%d) is greater than the maximum (%d): -EINVAL", name, major, device.MajorMax-1))
		return nil, fmt.Errorf("%s %q: major %d: %w", fn, name, major, ErrInvalid)
	case count == 0 || baseminor > device.MinorMask || count > device.MinorMask+1-baseminor:
		m.emit(trace.Warn, "", fn, fmt.Sprintf("CHRDEV %q minor range requested (%d, %d minors) is out of range of maximum range (0-%d) for a single major: -EINVAL", name, baseminor, count, device.MinorMask))
		return nil, fmt.Errorf("%s %q: minor range %d+%d: %w", fn, name, baseminor, count, ErrInvalid)
	}
	m.chrdevsLock.Lock()
	defer m.chrdevsLock.Unlock()
	m.mu.Lock()
	if major == 0 {
		mj, ok := m.findDynamicMajor()
		if !ok {
			m.mu.Unlock()
			m.emit(Kind, "", fn, fmt.Sprintf("CHRDEV %q dynamic allocation region is full: -EBUSY", name))
			return nil, fmt.Errorf("%s %q: no free dynamic major: %w", fn, name, ErrBusy)
		}
		major = mj
	}
	for _, r := range m.regions {
		if r.major == major && r.baseminor < baseminor+count && baseminor < r.baseminor+r.count {
			m.mu.Unlock()
			m.emit(Kind, "", fn, fmt.Sprintf("%q %d:%d-%d overlaps %s: -EBUSY", name, major, baseminor, baseminor+count-1, r))
			return nil, fmt.Errorf("%s %q: %d:%d-%d overlaps %s: %w", fn, name, major, baseminor, baseminor+count-1, r, ErrBusy)
		}
	}
	r := &region{major: major, baseminor: baseminor, count: count, name: name}
	m.regions = append(m.regions, r)
	sort.Slice(m.regions, func(i, j int) bool {
		a, b := m.regions[i], m.regions[j]
		return a.major < b.major || a.major == b.major && a.baseminor < b.baseminor
	})
	m.mu.Unlock()
	m.emit(Kind, "", fn, r.String())
	return r, nil
}

// unregister is __unregister_chrdev_region: the region with exactly that
// major, first minor and count, removed and returned (nil if none).
func (m *machine) unregister(major, baseminor, count uint32) *region {
	m.chrdevsLock.Lock()
	defer m.chrdevsLock.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, r := range m.regions {
		if r.major == major && r.baseminor == baseminor && r.count == count {
			m.regions = append(m.regions[:i], m.regions[i+1:]...)
			return r
		}
	}
	return nil
}

// splitByMajor cuts [from, from+count) at major boundaries, as
// register_chrdev_region walks it, calling fn for each piece; it stops at
// fn's first error and returns the pieces done.
func splitByMajor(from device.DevT, count uint32, fn func(major, minor, n uint32) error) (done []device.DevT, err error) {
	n := uint64(from)
	to := uint64(from) + uint64(count)
	for n < to {
		next := uint64(device.MkDev(device.DevT(n).Major()+1, 0))
		if device.DevT(n).Major()+1 >= 1<<(32-device.MinorBits) { // the last major
			next = to
		}
		next = min(next, to)
		if err := fn(device.DevT(n).Major(), device.DevT(n).Minor(), uint32(next-n)); err != nil {
			return done, err
		}
		done = append(done, device.DevT(n))
		n = next
	}
	return done, nil
}

// RegisterRegion is register_chrdev_region: reserve count device numbers
// from from, on h's machine, under name (what /proc/devices lists). A
// range may span majors; each major's part is registered on its own, and
// a failure gives back the parts already taken. It fails with ErrInvalid
// for a major of MajorMax or more, a range past a major's last minor, a
// count of zero, or a name that is empty or longer than MaxNameLen, and
// with ErrBusy when the range overlaps a registered one.
func RegisterRegion(h env.Host, from device.DevT, count int, name string) error {
	m := machineOf(env.Of(h))
	if count <= 0 || uint64(from)+uint64(count) > 1<<32 {
		m.emit(trace.Warn, "", "register_chrdev_region", fmt.Sprintf("%q %s, %d numbers: -EINVAL", name, from, count))
		return fmt.Errorf("register_chrdev_region %q %s+%d: %w", name, from, count, ErrInvalid)
	}
	done, err := splitByMajor(from, uint32(count), func(major, minor, n uint32) error {
		_, err := m.register("register_chrdev_region", major, minor, n, name)
		return err
	})
	if err != nil {
		for _, d := range done {
			next := min(uint64(device.MkDev(d.Major()+1, 0)), uint64(from)+uint64(count))
			m.unregister(d.Major(), d.Minor(), uint32(next-uint64(d)))
		}
	}
	return err
}

// AllocRegion is alloc_chrdev_region: reserve count minors from baseminor
// of a dynamically chosen major (254 down to 234, then 511 down to 384)
// and return the first number. It fails with ErrBusy when every dynamic
// major is taken, and with ErrInvalid as RegisterRegion does.
func AllocRegion(h env.Host, baseminor, count int, name string) (device.DevT, error) {
	m := machineOf(env.Of(h))
	if baseminor < 0 || count <= 0 || baseminor > device.MinorMask || count > device.MinorMask+1 {
		m.emit(trace.Warn, "", "alloc_chrdev_region", fmt.Sprintf("%q minors %d+%d: -EINVAL", name, baseminor, count))
		return 0, fmt.Errorf("alloc_chrdev_region %q: minors %d+%d: %w", name, baseminor, count, ErrInvalid)
	}
	r, err := m.register("alloc_chrdev_region", 0, uint32(baseminor), uint32(count), name)
	if err != nil {
		return 0, err
	}
	return device.MkDev(r.major, r.baseminor), nil
}

// UnregisterRegion is unregister_chrdev_region: give back the numbers
// RegisterRegion or AllocRegion reserved (the same first number and
// count). The kernel ignores a range that was never registered; here that
// is a trace.Warn.
func UnregisterRegion(h env.Host, from device.DevT, count int) {
	m := machineOf(env.Of(h))
	if count <= 0 || uint64(from)+uint64(count) > 1<<32 {
		m.emit(trace.Warn, "", "unregister_chrdev_region", fmt.Sprintf("%s, %d numbers: bad range", from, count))
		return
	}
	_, _ = splitByMajor(from, uint32(count), func(major, minor, n uint32) error {
		if r := m.unregister(major, minor, n); r != nil {
			m.emit(Kind, "", "unregister_chrdev_region", r.String())
		} else {
			m.emit(trace.Warn, "", "unregister_chrdev_region", fmt.Sprintf("%d:%d-%d was not registered", major, minor, minor+n-1))
		}
		return nil
	})
}

// RegisterChrdev is register_chrdev (__register_chrdev with minors 0-255):
// reserve minors 0-255 of major (0: a dynamic one) under name and add a
// cdev with fops for all of them, as a subsystem owning a whole major does
// (usb_major_init for USB_MAJOR, drm_core_init for DRM_MAJOR). It returns
// the major. The errors are RegisterRegion's and AllocRegion's.
func RegisterChrdev(h env.Host, major int, name string, fops *FileOperations) (int, error) {
	e := env.Of(h)
	m := machineOf(e)
	if major < 0 {
		m.emit(trace.Warn, "", "register_chrdev", fmt.Sprintf("%q major %d: -EINVAL", name, major))
		return 0, fmt.Errorf("register_chrdev %q: major %d: %w", name, major, ErrInvalid)
	}
	r, err := m.register("register_chrdev", uint32(major), 0, chrdevMinorsCount, name)
	if err != nil {
		return 0, err
	}
	// The subsystem's cdev lives as long as the machine (a static
	// allocation, reachable from the chrdevs table): no tracked memory.
	c := &Cdev{name: name}
	c.Init(e, fops)
	if err := c.Add(device.MkDev(r.major, 0), chrdevMinorsCount); err != nil {
		c.put("register_chrdev: kobject_put")
		m.unregister(r.major, 0, chrdevMinorsCount)
		return 0, err
	}
	m.mu.Lock()
	r.cdev = c
	m.mu.Unlock()
	return int(r.major), nil
}

// UnregisterChrdev is unregister_chrdev: give back the region
// RegisterChrdev reserved and delete its cdev (files open on it stay
// open).
func UnregisterChrdev(h env.Host, major int, name string) {
	m := machineOf(env.Of(h))
	if major < 0 || major >= device.MajorMax {
		m.emit(trace.Warn, "", "unregister_chrdev", fmt.Sprintf("%q major %d: bad major", name, major))
		return
	}
	r := m.unregister(uint32(major), 0, chrdevMinorsCount)
	if r == nil {
		m.emit(trace.Warn, "", "unregister_chrdev", fmt.Sprintf("%q major %d was not registered", name, major))
		return
	}
	m.emit(Kind, "", "unregister_chrdev", r.String())
	if r.cdev != nil {
		r.cdev.Del()
	}
}

// Regions lists the machine's registered ranges with their names (what
// /proc/devices lists, with the minors), in order of major and first
// minor: "180:0-255 usb", "254:0 sensor".
func Regions(h env.Host) []string {
	m := machineOf(env.Of(h))
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.regions))
	for _, r := range m.regions {
		out = append(out, rangeString(device.MkDev(r.major, r.baseminor), r.count)+" "+r.name)
	}
	return out
}
