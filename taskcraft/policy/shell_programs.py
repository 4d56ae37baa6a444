"""What we know about programs a shell command may run, by (lower-cased base) name.

Kept apart from the analysis so the tables can be reviewed, and extended, on their own.
"""

from __future__ import annotations

import re


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Prefixes that run the rest of their arguments as a command: every later argument that is
# not an option is considered as the possible start of that command.
WRAPPERS = _names(
    """busybox builtin caffeinate chroot chrt command doas env exec flock ionice ltrace nice
    nohup nsenter pkexec proxychains proxychains4 run0 runuser setsid stdbuf strace sudo
    taskset time timeout torsocks unbuffer unshare xargs watch firejail systemd-run
    script catchsegv valgrind gdb faketime sg newgrp cgexec numactl prlimit"""
)
# Bash keywords that may precede a command; stripped before the program name is read.
LEADING_KEYWORDS = _names("! { } if then else elif fi do done while until")
# Headers of compound commands: no program runs (their expansions are parsed separately).
CONTROL_HEADERS = _names("for case select function in esac [[ ]] (( ))")

PRIVILEGE_ESCALATION = _names(
    "sudo doas su pkexec run0 runuser sudoedit sg newgrp chroot nsenter unshare capsh setpriv setcap"
)
# Editors and pagers whose options run shell commands (vim -c ':!cmd', less +'!cmd').
EDITORS = _names("vi vim nvim view ex vimdiff less more man")
DISK_DESTROYERS = _names(
    "mke2fs mkswap fdisk sfdisk gdisk sgdisk cfdisk parted wipefs shred blkdiscard srm wipe"
)
SYSTEM_CHANGERS = _names(
    """shutdown reboot halt poweroff init telinit kexec crontab systemctl launchctl service
    useradd userdel usermod groupadd groupdel passwd chpasswd iptables ip6tables nft ufw
    mount umount swapoff swapon insmod rmmod modprobe sysctl visudo killall5 at batch
    setenforce chsh update-rc.d chkconfig"""
)
DELETERS = _names("rm rmdir unlink shred truncate srm wipe")
# Every operand is a path the program changes.
CHANGES_EVERY_OPERAND = _names(
    """mv ln link chmod chown chgrp touch mkdir rmdir unlink tee truncate install mkfifo
    mknod chattr setfacl"""
)
# Only the last operand (or a destination option's value) is written; the others are read.
COPIERS = _names("cp rsync scp")
# Options whose value is a file or directory the program writes into.
DESTINATION_OPTIONS: dict[str, tuple[str, ...]] = {
    "cp": ("-t", "--target-directory"),
    "mv": ("-t", "--target-directory"),
    "install": ("-t", "--target-directory"),
    "curl": ("-o", "--output", "--output-dir", "-c", "--cookie-jar", "-D", "--dump-header"),
    "wget": ("-O", "-P", "--output-document", "--directory-prefix", "-o", "--output-file"),
    "tar": ("-C", "--directory", "-f", "--file"),
    "unzip": ("-d",),
    "sort": ("-o", "--output"),
    "shuf": ("-o", "--output"),
    "git": ("--output",),
    "ssh-keygen": ("-f",),
}
IN_PLACE_EDITORS = _names("sed perl ruby")
FIND_EXEC_ACTIONS = _names("-exec -execdir -ok -okdir")

DOWNLOADERS = _names(
    """curl wget fetch aria2c http https xh lwp-download lwp-request get nc ncat netcat
    socat telnet tftp"""
)
# Programs that reach other machines: what they send may leave with them.
NETWORK_PROGRAMS = DOWNLOADERS | _names(
    """ssh scp sftp rsync ftp lftp dig nslookup host ping ping6 traceroute whois
    openssl mail mailx mutt sendmail s-nail msmtp swaks git aws gsutil gcloud az rclone
    azcopy s3cmd smbclient ldapsearch nmap"""
)
MAILERS = _names("mail mailx mutt sendmail s-nail msmtp swaks")
# Ways to stand up something others can connect to.
TUNNELS = _names("ngrok cloudflared localtunnel lt bore frpc chisel")
_SHELL = re.compile(r"(?:a|ba|c|da|fi|k|mk|po|tc|ya|z|nu|el|xon)?sh[0-9.]*")
_INTERPRETER = re.compile(
    r"(?:python|pypy|perl|ruby|irb|node|nodejs|php|lua|luajit|deno|bun|tclsh|wish|pwsh|"
    r"powershell|osascript|rscript|julia|guile|sbcl|racket|gawk|awk|mawk|nawk|jshell|groovy|"
    r"scala|kotlin|expect|gdb|busybox)[0-9.]*"
)
SCRIPT_RUNNERS = _names("source . eval")
# Shells whose ``-c`` argument is itself a command line we can analyse.
SHELLS_WITH_COMMAND_OPTION = _names(
    "sh bash dash zsh ksh mksh ash yash posh fish csh tcsh su busybox"
)
# Programs whose non-option arguments, joined, are a command line.
RUN_ARGUMENTS_AS_COMMAND = _names("eval watch trap")
# Programs that print stored credentials: (program, subcommand words that do it).
SECRET_STORES: dict[str, tuple[tuple[str, ...], ...]] = {
    "security": (("find-generic-password",), ("find-internet-password",), ("dump-keychain",)),
    "secret-tool": (("lookup",),),
    "gcloud": (("auth", "print-access-token"), ("auth", "print-identity-token"), ("secrets",)),
    "aws": (
        ("configure", "get"),
        ("configure", "export-credentials"),
        ("secretsmanager", "get-secret-value"),
        ("ssm", "get-parameter"),
        ("ssm", "get-parameters"),
        ("sts", "get-session-token"),
    ),
    "kubectl": (("get", "secret"), ("get", "secrets"), ("describe", "secret")),
    "vault": (("read",), ("kv", "get"), ("token", "lookup")),
    "op": (("read",), ("item", "get")),
    "pass": (("show",),),
    "gh": (("auth", "token"),),
    "git": (("credential", "fill"),),
    "az": (("account", "get-access-token"), ("keyvault", "secret", "show")),
    "keyctl": (("print",), ("read",), ("pipe",)),
    "gpg": (("--export-secret-keys",), ("--export-secret-subkeys",)),
    "doctl": (("auth", "token"),),
    "heroku": (("auth:token",),),
}
# Programs that print the environment (where secrets often live).
ENVIRONMENT_PRINTERS = _names("env printenv set export declare typeset")
# Decoders and generators: text that comes out of them was never seen by anyone.
DECODERS = _names(
    """base64 base32 basenc xxd uudecode openssl gunzip gzip zcat bzcat xzcat unxz unzstd
    zstd lz4 brotli rev tr printf echo python python3 perl ruby node php xargs iconv od
    dd sed awk cat tac"""
)
SAFE_DEVICES = _names("/dev/null /dev/stdout /dev/stderr /dev/tty /dev/stdin /dev/zero")
# Signals that cannot be caught, and targets that mean "every process".
KILL_EVERYTHING_TARGETS = _names("-1 1 --1")


def is_shell(name: str) -> bool:
    return bool(_SHELL.fullmatch(name)) or name in SCRIPT_RUNNERS


def is_interpreter(name: str) -> bool:
    return bool(_INTERPRETER.fullmatch(name))
