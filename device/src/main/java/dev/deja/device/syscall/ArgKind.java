package dev.deja.device.syscall;

/** The kinds of syscall argument a schema can name; see schemas.txt for the meaning of each. */
public enum ArgKind {
    // scalars
    INT("d"), LONG("ld"), ULONG("u"), HEX("x"), OCT("o"), PTR("ptr"), FD("fd"), DIRFD("dirfd"), PID("pid"),
    SIG("sig"), MODE("mode"), FLAGS("F"), ENUM("E"),
    // inputs
    PATH("path"), STR("str"), IBUF("ibuf"), IN("in"), INARR("inarr"), CIN("cin"), SAIN("sain"), IOVIN("iovin"),
    MSGIN("msgin"), MMSGIN("mmsgin"), STRV("strv"), SIGSET("sigset"), INODES("inodes"),
    // outputs
    OBUF("obuf"), OBUFARG("obufarg"), OSTR("ostr"), OUT("out"), OUTARR("outarr"), OUTRET("outret"),
    SAOUT("saout"), OLEN("olen"), SLEN("slen"), IOVOUT("iovout"), MSGOUT("msgout"), MMSGOUT("mmsgout"),
    FDPAIR("fdpair"), OSIGSET("osigset"), DENTS("dents"), FILEHANDLE("filehandle"), OPAGES("opages"),
    ONODES("onodes"),
    // both
    IO("io"), IOARR("ioarr"), FDSET("fdset"),
    // decided by another argument
    IOCTLREQ("ioctlreq"), IOCTLARG("ioctlarg"), FCNTLCMD("fcntlcmd"), FCNTLARG("fcntlarg"), FUTEXOP("futexop"),
    FUTEXVAL2("futexval2"), PRCTLOP("prctlop"), PRCTLARG("prctlarg"), ARCHPRCTLOP("archprctlop"),
    ARCHPRCTLARG("archprctlarg"), WSTATUS("wstatus");

    final String token;

    ArgKind(String token) {
        this.token = token;
    }

    public static ArgKind parse(String token) {
        for (ArgKind k : values()) if (k.token.equals(token)) return k;
        throw new IllegalArgumentException("unknown argument kind: " + token);
    }

    /** True for kinds that name memory deja reads at entry or exit (the rest are scalars). */
    public boolean memory() {
        return ordinal() >= PATH.ordinal() && this != IOCTLREQ && this != FCNTLCMD && this != FUTEXOP
                && this != PRCTLOP && this != ARCHPRCTLOP;
    }
}
