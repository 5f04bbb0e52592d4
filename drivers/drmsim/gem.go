package drmsim

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/env"
)

// GEMObject is struct drm_gem_object with its shmem backing: a buffer
// object created by DRM_IOCTL_MODE_CREATE_DUMB. Its pages are a simulated
// allocation, freed when the last reference (a file's handle, a user
// mapping) is dropped (drm_gem_object_free).
type GEMObject struct {
	dev                  *Device
	id                   int
	width, height, pitch int
	offset               uint64
	obj                  *env.Object
	data                 []byte

	mu   sync.Mutex
	refs int
}

// Name returns "gem <id>", the name used in traces and sanitizer reports.
func (o *GEMObject) Name() string { return fmt.Sprintf("gem %d", o.id) }

// Size returns the object's size in bytes.
func (o *GEMObject) Size() int { return len(o.data) }

// Width, Height and Pitch describe the dumb buffer's layout.
func (o *GEMObject) Width() int { return o.width }

// Height returns the buffer's height in lines.
func (o *GEMObject) Height() int { return o.height }

// Pitch returns the bytes per line.
func (o *GEMObject) Pitch() int { return o.pitch }

// Bytes checks an access described by what (KASAN's check on the pages)
// and returns the object's contents, what a driver's damage handler reads
// from (drm_gem_shmem_vmap).
func (o *GEMObject) Bytes(what string) []byte {
	o.obj.Access(what)
	return o.data
}

func (o *GEMObject) get() {
	o.mu.Lock()
	o.refs++
	o.mu.Unlock()
}

// put is drm_gem_object_put; the last reference frees the object.
func (o *GEMObject) put() {
	o.mu.Lock()
	o.refs--
	last := o.refs == 0
	o.mu.Unlock()
	if last {
		o.dev.emit(KindGEM, "drm_gem_object_free", o.Name())
		o.obj.Free()
	}
}

// createDumb is drm_mode_create_dumb_ioctl: a new object and a handle to
// it in the file's table.
func (f *File) createDumb(a *CreateDumbArgs) error {
	if a.Width == 0 || a.Height == 0 || a.BPP == 0 || a.BPP%8 != 0 {
		return fmt.Errorf("drm_mode_create_dumb: %dx%d@%d: %w", a.Width, a.Height, a.BPP, ErrInvalid)
	}
	d := f.dev
	pitch := int(a.Width) * int(a.BPP) / 8
	d.mu.Lock()
	d.seq++
	id := d.seq
	d.mu.Unlock()
	o := &GEMObject{dev: d, id: id, width: int(a.Width), height: int(a.Height), pitch: pitch,
		offset: uint64(id) << 12, data: make([]byte, pitch*int(a.Height)), refs: 1}
	o.obj = d.e.Memory().Alloc(o.Name())
	d.emit(KindGEM, "drm_gem_object_init", fmt.Sprintf("%s size=%d", o.Name(), len(o.data)))
	f.mu.Lock()
	f.nextHandle++
	h := f.nextHandle
	f.handles[h] = o
	f.mu.Unlock()
	a.Handle, a.Pitch, a.Size = h, uint32(pitch), uint64(len(o.data))
	return nil
}

// Lookup is drm_gem_object_lookup: the object behind handle in the file's
// table, or an error wrapping ErrNoEntry. The object stays valid while the
// handle exists.
func (f *File) Lookup(handle uint32) (*GEMObject, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o := f.handles[handle]; o != nil {
		return o, nil
	}
	return nil, fmt.Errorf("drm_gem_object_lookup: handle %d: %w", handle, ErrNoEntry)
}

// gemRelease is drm_gem_release: drop every handle of the file.
func (f *File) gemRelease() {
	f.mu.Lock()
	objs := make([]*GEMObject, 0, len(f.handles))
	for h := uint32(1); h <= f.nextHandle; h++ { // handle order: deterministic
		if o := f.handles[h]; o != nil {
			objs = append(objs, o)
		}
	}
	f.handles = map[uint32]*GEMObject{}
	f.mu.Unlock()
	if len(objs) > 0 {
		f.dev.emit(KindGEM, "drm_gem_release", fmt.Sprintf("file %d: %d handles", f.id, len(objs)))
	}
	for _, o := range objs {
		o.put()
	}
}
