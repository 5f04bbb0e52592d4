package device

import (
	"fmt"
	"reflect"
	"strings"
)

// Kernel limits on names (include/uapi/linux/limits.h). A kobject name in
// the kernel has no length limit of its own, but sysfs is reached through
// the VFS, where a longer name or path can never be looked up
// (-ENAMETOOLONG): drvsim refuses what no one could open.
const (
	// NameMax is NAME_MAX: the longest sysfs name, in bytes.
	NameMax = 255
	// PathMax is PATH_MAX: the longest sysfs path, in bytes, counting the
	// terminating NUL.
	PathMax = 4096
)

// kobjectName is what kobject_set_name_vargs makes of a name: every '/'
// becomes '!', since a slash would make the name a path in sysfs (a block
// device "cciss/c0d0" is /sys/block/cciss!c0d0).
func kobjectName(name string) string {
	return strings.ReplaceAll(name, "/", "!")
}

// ValidateName checks a name that becomes a sysfs directory (a device, a
// driver, a bus): not empty (kobject_add_internal's "attempted to be
// registered with empty name", -EINVAL), at most NameMax bytes
// (ErrNameTooLong), no '/' and no control characters (ErrInvalid). The
// kernel itself lets control characters through; drvsim refuses them
// because no sysfs tool, uevent consumer or line of trace handles them.
// what names the object in the error ("device", "driver").
func ValidateName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s: empty name: %w", what, ErrInvalid)
	case len(name) > NameMax:
		return fmt.Errorf("%s %.32q...: name of %d bytes, longer than NAME_MAX (%d): %w", what, name, len(name), NameMax, ErrNameTooLong)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("%s %q: '/' in a name: %w", what, name, ErrInvalid)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s %q: control character %#02x in a name: %w", what, name, c, ErrInvalid)
		}
	}
	return nil
}

// isNil reports whether v is nil or an interface holding a nil pointer,
// map, slice, function or channel (a typed nil).
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return r.IsNil()
	}
	return false
}
