package drmsim

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/env"
)

// fops are the drm driver's file operations (DEFINE_DRM_GEM_FOPS):
// drm_release, drm_ioctl, drm_gem_mmap. drm_stub_open installs them and
// runs drm_open itself (Class.stubOpen).
var fops = &chardev.FileOperations{
	Release:       drmRelease,
	UnlockedIoctl: drmIoctl,
	Mmap:          drmMmap,
}

// File is struct drm_file behind an open struct file of /dev/dri/cardN:
// the per-open state (its GEM handle table, the driver's private data). It
// holds a reference on its drm device from drm_open to drm_release, so
// the device outlives an unplug while the file is open.
//
// The struct file is a chardev.File (Filp): its descriptor holds one
// reference and each user Mapping another (a vma's vm_file), and
// drm_release runs at the last one (__fput); Close is close(2) of the
// descriptor.
type File struct {
	dev   *Device
	minor *Minor
	filp  *chardev.File
	id    int
	obj   *env.Object // the struct drm_file allocation

	mu         sync.Mutex
	released   bool // drm_release ran
	handles    map[uint32]*GEMObject
	nextHandle uint32
	priv       any
}

// open is drm_open after drm_minor_acquire took a reference on d for m:
// check the unplugged state, allocate the drm_file (drm_file_alloc, the
// driver's open), add it to the device's file list and make it the
// struct file's private data.
func (d *Device) open(m *Minor, filp *chardev.File) error {
	d.touch("drm_open")
	d.emit(KindDevice, "drm_dev_get", fmt.Sprintf("refs=%d (drm_minor_acquire)", d.refs.Load()))
	if d.IsUnplugged() {
		d.emit(KindFile, "drm_open", "ret=-ENODEV (unplugged)")
		d.Put()
		return fmt.Errorf("drm_open %s: unplugged: %w", d.path, ErrNoDevice)
	}
	d.mu.Lock()
	d.seq++ // shared counter: file and object ids stay deterministic
	id := d.seq
	d.mu.Unlock()
	f := &File{dev: d, minor: m, filp: filp, id: id, handles: map[uint32]*GEMObject{}}
	f.obj = d.e.Memory().Alloc(fmt.Sprintf("drm_file %d", id))
	if d.drv.Open != nil {
		if err := d.drv.Open(f); err != nil {
			f.obj.Free()
			d.emit(KindFile, "drm_open", fmt.Sprintf("file %d: driver open failed: %v", id, err))
			d.Put()
			return fmt.Errorf("drm_open %s: %w", d.path, err)
		}
	}
	d.mu.Lock()
	d.files = append(d.files, f)
	d.mu.Unlock()
	filp.Private = f
	d.emit(KindFile, "drm_open", fmt.Sprintf("file %d opened", id))
	return nil
}

// fileOf returns the drm_file of an open struct file (file->private_data).
func fileOf(filp *chardev.File) *File { return filp.Private.(*File) }

// Device returns the drm device (file->minor->dev).
func (f *File) Device() *Device { return f.dev }

// Filp returns the struct file the drm_file belongs to (file->filp).
func (f *File) Filp() *chardev.File { return f.filp }

// ID returns the file's number on its device, for traces.
func (f *File) ID() int { return f.id }

// SetDriverPriv stores the driver's per-file data (file->driver_priv).
func (f *File) SetDriverPriv(v any) {
	f.mu.Lock()
	f.priv = v
	f.mu.Unlock()
}

// DriverPriv returns the driver's per-file data.
func (f *File) DriverPriv() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.priv
}

// Close is close(2) of the file's descriptor: it drops the descriptor's
// reference on the struct file; drm_release runs when it was the last
// (no user mapping left). It works whether or not the device is
// unplugged. A second Close fails with ErrBadFile.
func (f *File) Close() error { return f.filp.Close() }

// Released reports whether drm_release has run for the file.
func (f *File) Released() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.released
}

// drmRelease is drm_release, the struct file's release: drm_close_helper
// (unlink from the file list, drm_file_free: the GEM handles, the
// driver's postclose, the drm_file's memory), then drm_minor_release's
// drm_dev_put.
func drmRelease(filp *chardev.File) error {
	f := fileOf(filp)
	d := f.dev
	f.obj.Access("drm_release")
	d.emit(KindFile, "drm_release", fmt.Sprintf("file %d", f.id))
	d.mu.Lock()
	for i, x := range d.files {
		if x == f {
			d.files = append(d.files[:i], d.files[i+1:]...)
			break
		}
	}
	d.mu.Unlock()
	f.gemRelease()
	if d.drv.PostClose != nil {
		d.drv.PostClose(f)
	}
	f.mu.Lock()
	f.released = true
	f.mu.Unlock()
	f.obj.Free()
	d.Put()
	return nil
}

// Files returns the number of open files (the length of dev->filelist).
func (d *Device) Files() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.files)
}
