"""What we know about programs a shell command may run, by (lower-cased base) name.

Kept apart from the analysis so the tables can be reviewed, and extended, on their own.
"""

from __future__ import annotations

import re


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _sorted_names(text: str) -> list[str]:
    return sorted(text.split())


# Prefixes that run the rest of their arguments as a command: every later argument that is
# not an option is considered as the possible start of that command.
WRAPPERS = _names(
    """busybox builtin caffeinate chroot chrt command doas env exec flock ionice ltrace nice
    nohup nsenter pkexec proxychains proxychains4 run0 runuser setsid stdbuf strace sudo
    taskset time timeout torsocks unbuffer unshare xargs"""
)
# Bash keywords that may precede a command; stripped before the program name is read.
LEADING_KEYWORDS = _names("! { } if then else elif fi do done while until")
# Headers of compound commands: no program runs (their expansions are parsed separately).
CONTROL_HEADERS = _names("for case select function in esac [[ ]]")

PRIVILEGE_ESCALATION = _names("sudo doas su pkexec run0 runuser sudoedit")
DISK_DESTROYERS = _names(
    "mke2fs mkswap fdisk sfdisk gdisk sgdisk cfdisk parted wipefs shred blkdiscard"
)
SYSTEM_CHANGERS = _names(
    """shutdown reboot halt poweroff init telinit kexec crontab systemctl launchctl service
    useradd userdel usermod passwd chpasswd iptables nft mount umount swapoff insmod rmmod
    modprobe sysctl visudo"""
)
DELETERS = _names("rm rmdir unlink shred truncate")
# Every operand is a path the program changes.
CHANGES_EVERY_OPERAND = _names(
    "mv ln link chmod chown chgrp touch mkdir rmdir unlink tee truncate install mkfifo mknod chattr setfacl"
)
# Only the last operand (or a destination option's value) is written; the others are read.
COPIERS = _names("cp rsync scp")
# Options whose value is a file or directory the program writes into.
DESTINATION_OPTIONS: dict[str, tuple[str, ...]] = {
    "cp": ("-t", "--target-directory"),
    "curl": ("-o", "--output", "--output-dir"),
    "wget": ("-O", "-P", "--output-document", "--directory-prefix"),
    "tar": ("-C", "--directory"),
    "unzip": ("-d",),
    "sort": ("-o", "--output"),
}
IN_PLACE_EDITORS = _names("sed perl ruby")
FIND_EXEC_ACTIONS = _names("-exec -execdir -ok -okdir")

DOWNLOADERS = _names(
    "curl wget fetch aria2c http https xh lwp-download lwp-request get nc ncat netcat socat telnet tftp"
)
_SHELL = re.compile(r"(?:a|ba|c|da|fi|k|mk|po|tc|ya|z)?sh[0-9.]*")
_INTERPRETER = re.compile(
    r"(?:python|perl|ruby|node|nodejs|php|lua|deno|bun|tclsh|pwsh|osascript)[0-9.]*"
)
SCRIPT_RUNNERS = _names("source . eval")
# Shells whose ``-c`` argument is itself a command line we can analyse.
SHELLS_WITH_COMMAND_OPTION = _names("sh bash dash zsh ksh mksh ash yash posh fish csh tcsh su")
# Programs whose non-option arguments, joined, are a command line.
RUN_ARGUMENTS_AS_COMMAND = _names("eval watch trap")

# Programs that only read and print, with the options that would make them write or run
# something. Matched by exact name: ``./ls`` or ``/tmp/cat`` are not these programs.
_PLAIN_READERS = _sorted_names(
    """ls cat head tail wc grep egrep fgrep echo printf pwd stat du df cut tr diff cmp comm
    whoami id uname which basename dirname realpath readlink true false test [ nl tac rev
    md5sum sha1sum sha256sum sha512sum seq column paste fold expand strings hexdump od"""
)
READ_ONLY_PROGRAMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_PLAIN_READERS, ()),
    "rg": ("--pre",),
    "file": ("-C", "--compile"),
    "sort": ("-o", "--output", "--compress-program"),
    "tree": ("-o",),
    "date": ("-s", "--set"),
    "find": ("-delete", "-fprint", "-fprint0", "-fprintf", "-fls", *sorted(FIND_EXEC_ACTIONS)),
}
SAFE_DEVICES = _names("/dev/null /dev/stdout /dev/stderr /dev/tty")


def is_shell(name: str) -> bool:
    return bool(_SHELL.fullmatch(name)) or name in SCRIPT_RUNNERS


def is_interpreter(name: str) -> bool:
    return bool(_INTERPRETER.fullmatch(name))
