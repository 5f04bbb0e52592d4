package device

import (
	"fmt"
	"sort"
)

// SetAttr creates or changes a sysfs attribute of the device
// (device_create_file plus its store). The name must be a valid sysfs name
// (ValidateName), and the value at most PAGE_SIZE bytes (what a sysfs show
// may return); otherwise ErrInvalid or ErrNameTooLong, and nothing
// changes.
func (d *Device) SetAttr(name, value string) error {
	if err := ValidateName("device_create_file "+d.path+": attribute", name); err != nil {
		return err
	}
	if len(value) > attrMax {
		return fmt.Errorf("device_create_file %s: attribute %s: value of %d bytes, more than PAGE_SIZE: %w", d.path, name, len(value), ErrInvalid)
	}
	d.mu.Lock()
	if d.attrs == nil {
		d.attrs = make(map[string]string)
	}
	d.attrs[name] = value
	d.mu.Unlock()
	return nil
}

// attrMax is the most a sysfs attribute holds: PAGE_SIZE.
const attrMax = 4096

// Attr reads an attribute (the show callback); ok is false when absent.
func (d *Device) Attr(name string) (value string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	value, ok = d.attrs[name]
	return value, ok
}

// RemoveAttr removes an attribute (device_remove_file).
func (d *Device) RemoveAttr(name string) {
	d.mu.Lock()
	delete(d.attrs, name)
	d.mu.Unlock()
}

// Attrs returns the attribute names, sorted.
func (d *Device) Attrs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.attrs))
	for k := range d.attrs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
