package docs_test

// examples.md quotes the example programs, run as the reader runs them:
// go run ./examples/NAME. Each example's own test keeps the program's
// output in examples/NAME/testdata/output.golden; the generators below
// cut the page's excerpts from those files.

// exampleOutput is the output of go run ./examples/NAME, as its golden file
// holds it.
func exampleOutput(name string) (string, error) {
	return fileText("../examples/" + name + "/testdata/output.golden")()
}

// examplePlatformUnbind: platform-driver's unbind section.
func examplePlatformUnbind() (string, error) {
	out, err := exampleOutput("platform-driver")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).section("unbind:").text()
}

// examplePlatformProbeFailure: platform-driver's tmp102.1, from its first
// devm action to its state after the failed probe, and the board check
// that ends the program.
func examplePlatformProbeFailure() (string, error) {
	out, err := exampleOutput("platform-driver")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).
		span("devm_add_action /sys/devices/platform/tmp102.1", "state=").
		line("board:").text()
}

// exampleRevocable: revocable's step 3 (the revoke waiting for the reader)
// and step 4, to the end.
func exampleRevocable() (string, error) {
	out, err := exampleOutput("revocable")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).span("say: 3. reader", "").text()
}

// exampleUSBUnplug: usb-unplug from the read that sleeps on its URB:
// the unplug up to the frees, the failed open, the read, ioctl and close
// on the open file.
func exampleUSBUnplug() (string, error) {
	out, err := exampleOutput("usb-unplug")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).elide(" ...").
		span("[process] usb_submit_urb /sys/devices/usb1/1-1: urb 3", "kfree: skel hw state").
		line("do_filp_open /dev/skel0: -ENOENT").
		span("[process] vfs_read /dev/skel0: -ENODEV", "").text()
}

// exampleDRMUnplug: drm-unplug's last three sections: the unplug, the open
// file after it, the close.
func exampleDRMUnplug() (string, error) {
	out, err := exampleOutput("drm-unplug")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).section("device_unregister lcdc").section("the open file").section("close:").text()
}

// exampleLifecycleTest: lifecycle-test's four sections, the report cut to
// a few call sites, its schedule and trace to the trace's last events.
func exampleLifecycleTest() (string, error) {
	out, err := exampleOutput("lifecycle-test")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).
		span("== 1.", "drvsim: run FAILED").
		report(4, 1, 2).
		span("[unplug] devres_release_all", "").text()
}
