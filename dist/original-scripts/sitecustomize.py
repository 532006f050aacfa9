# TinyHSM for ST's unmodified host scripts (config_TinyHSM.py, sign.py):
# put this file's directory first on PYTHONPATH. Python imports
# sitecustomize at start; this one adds tinyhsmd's (or tinyhsmd-qemu's)
# link to pyserial's list of serial ports as the board's ST-LINK port
# (USB ids 0483:374E), so the scripts' port lookup, which looks for the
# board, finds the software device. The link is $TINYHSM_PORT, else
# $XDG_RUNTIME_DIR/tinyhsm/tty (tinyhsmd's default).
import os

try:
    from serial.tools import list_ports, list_ports_common
except ImportError:  # no pyserial: the scripts cannot run anyway
    list_ports = None


def _link():
    if os.environ.get("TINYHSM_PORT"):
        return os.environ["TINYHSM_PORT"]
    run = os.environ.get("XDG_RUNTIME_DIR")
    return os.path.join(run, "tinyhsm", "tty") if run else None


def _tinyhsm_port(link):
    info = list_ports_common.ListPortInfo(link, skip_link_detection=True)
    info.vid, info.pid = 0x0483, 0x374E
    info.manufacturer = "STMicroelectronics"
    info.product = "STM32 STLink"
    info.interface = "ST-Link VCP Data"
    info.serial_number = "TINYHSM"
    info.apply_usb_info()
    return info


def _with_tinyhsm(real):
    def comports(*args, **kwargs):
        ports = list(real(*args, **kwargs))
        link = _link()
        if link and os.path.exists(link):
            ports.append(_tinyhsm_port(link))
        return ports
    return comports


if list_ports is not None:
    list_ports.comports = _with_tinyhsm(list_ports.comports)
