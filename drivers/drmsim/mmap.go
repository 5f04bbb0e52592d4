package drmsim

import (
	"fmt"
	"sync"
)

// Mapping is a user-space mapping of a GEM object (a vma set up by mmap(2)
// on the drm file at the offset DRM_IOCTL_MODE_MAP_DUMB returned). It
// holds a reference on the object and on the struct file (vm_file), so the
// file's drm_release waits for Unmap. drm_dev_unplug tears every mapping
// of the device down (unmap_mapping_range): later accesses fault, and the
// fault handler's drm_dev_enter fails, so they return ErrFault (SIGBUS).
type Mapping struct {
	f  *File
	bo *GEMObject

	mu       sync.Mutex
	zapped   bool
	unmapped bool
}

// Mmap is mmap(2) on the file at offset (drm_gem_mmap): the object whose
// fake offset it is must have a handle in this file. It fails with
// ErrNoEntry for an unknown offset, ErrNoDevice once the device is
// unplugged, ErrBadFile on a closed file.
func (f *File) Mmap(offset uint64) (*Mapping, error) {
	d := f.dev
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, fmt.Errorf("mmap %s: %w", d.path, ErrBadFile)
	}
	var bo *GEMObject
	for _, o := range f.handles {
		if o.offset == offset {
			bo = o
		}
	}
	f.mu.Unlock()
	if bo == nil {
		return nil, fmt.Errorf("drm_gem_mmap %s: offset %#x: %w", d.path, offset, ErrNoEntry)
	}
	idx, ok := d.Enter()
	if !ok {
		return nil, fmt.Errorf("drm_gem_mmap %s: %w", d.path, ErrNoDevice)
	}
	defer d.Exit(idx)
	bo.get()
	f.refs.Add(1)
	m := &Mapping{f: f, bo: bo}
	d.mu.Lock()
	d.mappings = append(d.mappings, m)
	d.mu.Unlock()
	d.emit(KindGEM, "drm_gem_mmap", fmt.Sprintf("file %d %s offset=%#x", f.id, bo.Name(), offset))
	return m, nil
}

// Write is a CPU store through the mapping at byte offset off. After the
// mapping was torn down by drm_dev_unplug, or unmapped, it returns
// ErrFault.
func (m *Mapping) Write(off int, p []byte) error {
	m.mu.Lock()
	bad := m.zapped || m.unmapped
	m.mu.Unlock()
	if bad {
		return fmt.Errorf("store through %s mapping: %w", m.bo.Name(), ErrFault)
	}
	data := m.bo.Bytes("store through user mapping")
	if off < 0 || off+len(p) > len(data) {
		return fmt.Errorf("store through %s mapping at %d: %w", m.bo.Name(), off, ErrFault)
	}
	copy(data[off:], p)
	return nil
}

// Zapped reports whether drm_dev_unplug tore the mapping down.
func (m *Mapping) Zapped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.zapped
}

// Unmap is munmap(2): it drops the mapping's references on the object and
// on the file (which may run drm_release). A second Unmap does nothing.
func (m *Mapping) Unmap() {
	m.mu.Lock()
	if m.unmapped {
		m.mu.Unlock()
		return
	}
	m.unmapped = true
	m.mu.Unlock()
	d := m.f.dev
	d.mu.Lock()
	for i, x := range d.mappings {
		if x == m {
			d.mappings = append(d.mappings[:i], d.mappings[i+1:]...)
			break
		}
	}
	d.mu.Unlock()
	m.bo.put()
	m.f.fput()
}

// unmapMappings is drm_dev_unplug's unmap_mapping_range over the device's
// anonymous inode: every user mapping is torn down.
func (d *Device) unmapMappings() {
	d.mu.Lock()
	ms := append([]*Mapping(nil), d.mappings...)
	d.mu.Unlock()
	for _, m := range ms {
		m.mu.Lock()
		m.zapped = true
		m.mu.Unlock()
	}
	d.emit(KindDevice, "unmap_mapping_range", fmt.Sprintf("%d user mappings torn down", len(ms)))
}
