// Package scenario holds the sensor driver's lifecycle scenarios: a read
// of /dev/sensor0 racing the unbind of its platform device, on each of the
// four drivers of package sensor (registered as sensor-refcounted, ...,
// sensor-devm-cdev), and the story of the drvsim command's cdev-unbind
// demo: a file open across the unbind, on the driver whose cdev is
// embedded in devm memory, then on the one whose file operations are
// revoked, then on the refcounted one.
package scenario
