package zoo

func udlUnplugLate() *Bug {
	return &Bug{
		Name:      "udl-unplug-late",
		Subsystem: "DRM + USB, udl (DisplayLink)",
		Commit:    "ff9cb6d2035c586ea7c8f1754d4409eec7a2d26d",
		Subject:   "drm/udl: Unregister device before cleaning up on disconnect",
		Author:    "Thomas Zimmermann, 2025-03 (Fixes: b1a981bd5576; stable 5.8+)",
		Report: "Every disconnect of a DisplayLink device logs \"udl_urb_completion - nonzero write " +
			"bulk status received: -115\" and \"udl_submit_urb: usb_submit_urb error fffffffe\" " +
			"(-ENOENT): bulk URBs submitted to the device's disabled endpoints. No crash.",
		Race: "udl_usb_disconnect stopped the KMS connector poll (drm_kms_helper_poll_fini), dropped " +
			"the USB state and only then called drm_dev_unplug. According to the commit, shutting " +
			"the poll helper down runs it one final time while the USB device is already gone but " +
			"not yet marked unplugged, so the poll passes drm_dev_enter and its hotplug handling " +
			"submits URBs.",
		Fix: "drm_dev_unplug first in udl_usb_disconnect: the poll path bails out on an unplugged " +
			"device.",
		Missing: "the DRM model has no KMS poll helper",
		Pending: "Not reproduced. drvsim's DRM model has no KMS poll helper (output_poll_work, " +
			"drm_kms_helper_poll_init/fini), no connector detect and no fbdev client whose hotplug " +
			"modeset would run udl's damage handler, and the deterministic final run the commit " +
			"describes is not in drm_kms_helper_poll_fini as we read it (v6.14: it cancels the poll " +
			"work, waiting only for a run already in flight). A race model built on that reading " +
			"would not tell the two orders apart: usb_unbind_interface disables the endpoints " +
			"before udl's disconnect runs, so a poll already inside drm_dev_enter submits to them " +
			"in the fixed order too. To reproduce it drvsim needs the poll helper, udl's connector " +
			"and modeset path in drivers/drmsim/udlsim, and the source of the final poll run (a " +
			"trace of a real unplug would settle it); the symptom would then be the error lines in " +
			"the log, checked at the end of the run.",
	}
}
