package drmsim

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/chardev"
)

// Mapping is a user-space mapping of a GEM object (a vma set up by mmap(2)
// on the drm file at the offset DRM_IOCTL_MODE_MAP_DUMB returned). It
// holds a reference on the object and on the struct file (vm_file), so the
// file's drm_release waits for Unmap.
//
// The object is shmem-backed, as with udl and gud (drm_gem_shmem_helper):
// mmap inserts no page; the first store faults and drm_gem_shmem_fault
// inserts the object's pages. drm_dev_unplug zaps every mapping of the
// device (unmap_mapping_range); the next store faults again, and since the
// shmem fault handler does not check drm_dev_enter and the pages are
// ordinary memory held by the mapping's reference, it inserts them again:
// the store succeeds. (TTM drivers check drm_dev_enter in their fault
// handler and map a dummy page instead; SIGBUS comes only from the
// handler's range check.)
type Mapping struct {
	f  *File
	bo *GEMObject

	mu       sync.Mutex
	present  bool // the pages are mapped (a fault inserted them)
	zapped   bool // drm_dev_unplug tore the mapping down at least once
	unmapped bool
}

// Mmap is mmap(2) on the file at offset (do_mmap on its struct file,
// reaching drm_gem_mmap): the object whose fake offset it is must have a
// handle in this file. It fails with ErrNoEntry for an unknown offset,
// ErrNoDevice once the device is unplugged, ErrBadFile on a closed file.
// The kernel's drm_gem_mmap only checks drm_dev_is_unplugged at its
// start; here the mapping is set up inside a drm_dev_enter section, so
// that it cannot be added after drm_dev_unplug's unmap_mapping_range
// (which the kernel does not rule out, harmlessly for shmem objects).
func (f *File) Mmap(offset uint64) (*Mapping, error) {
	vma, err := f.filp.Mmap(offset)
	if err != nil {
		return nil, err
	}
	return vma.(*Mapping), nil
}

// drmMmap is drm_gem_mmap, the struct file's mmap.
func drmMmap(filp *chardev.File, offset uint64) (any, error) {
	f := fileOf(filp)
	d := f.dev
	var bo *GEMObject
	f.mu.Lock()
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
	m := &Mapping{f: f, bo: bo}
	d.mu.Lock()
	d.mappings = append(d.mappings, m)
	d.mu.Unlock()
	d.emit(KindGEM, "drm_gem_mmap", fmt.Sprintf("file %d %s offset=%#x", f.id, bo.Name(), offset))
	return m, nil
}

// Write is a CPU store through the mapping at byte offset off. A store to
// pages not mapped yet (the first one, or the first after drm_dev_unplug
// zapped the mapping) runs the fault handler, drm_gem_shmem_fault, which
// inserts the object's pages and records a drm_gem_shmem_fault event; the
// store then lands in the object. A store past the end of the object
// returns ErrFault (the fault handler's SIGBUS), and so does one after
// Unmap (SIGSEGV: no vma).
func (m *Mapping) Write(off int, p []byte) error {
	m.mu.Lock()
	switch {
	case m.unmapped:
		m.mu.Unlock()
		return fmt.Errorf("store through unmapped %s mapping: %w", m.bo.Name(), ErrFault)
	case off < 0 || off+len(p) > m.bo.Size():
		m.mu.Unlock()
		return fmt.Errorf("store through %s mapping at %d: drm_gem_shmem_fault: VM_FAULT_SIGBUS: %w", m.bo.Name(), off, ErrFault)
	}
	fault, refault := !m.present, m.zapped
	m.present = true
	m.mu.Unlock()
	if fault {
		msg := fmt.Sprintf("file %d %s: pages inserted", m.f.id, m.bo.Name())
		if refault {
			msg = fmt.Sprintf("file %d %s: refault after unmap_mapping_range, pages inserted again (no drm_dev_enter check)", m.f.id, m.bo.Name())
		}
		m.f.dev.emit(KindGEM, "drm_gem_shmem_fault", msg)
	}
	data := m.bo.Bytes("store through user mapping")
	copy(data[off:], p)
	return nil
}

// Zapped reports whether drm_dev_unplug tore the mapping down (even if a
// later store faulted its pages in again).
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
	m.f.filp.Put()
}

// unmapMappings is drm_dev_unplug's unmap_mapping_range over the device's
// anonymous inode: the page-table entries of every user mapping of the
// device are removed (zapped); the vmas stay, and the next access faults.
func (d *Device) unmapMappings() {
	d.mu.Lock()
	ms := append([]*Mapping(nil), d.mappings...)
	d.mu.Unlock()
	for _, m := range ms {
		m.mu.Lock()
		m.zapped = true
		m.present = false
		m.mu.Unlock()
	}
	d.emit(KindDevice, "unmap_mapping_range", fmt.Sprintf("%d user mappings zapped", len(ms)))
}
