package device

import "sort"

// SetAttr creates or changes a sysfs attribute of the device
// (device_create_file plus its store).
func (d *Device) SetAttr(name, value string) {
	d.mu.Lock()
	if d.attrs == nil {
		d.attrs = make(map[string]string)
	}
	d.attrs[name] = value
	d.mu.Unlock()
}

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
