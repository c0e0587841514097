package dev.deja.replayer.stack;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The call frame information of an ELF file's {@code .eh_frame} (the DWARF 4 CFI format with the
 * LSB's GNU augmentations, "z", "R", "P", "L", "S"): its CIEs and FDEs, found by address through the
 * sorted table of {@code .eh_frame_hdr} when there is one (else by a scan of every FDE), and the
 * rules of the row for an address (what {@link CfaProgram} computes).
 */
public final class CallFrameInfo {
    static final int DW_EH_PE_OMIT = 0xff;

    /** An FDE: the code it covers [start, end) (unrelocated addresses) and where it lies in .eh_frame. */
    public record Fde(long start, long end, int offset, Cie cie, int instructionsAt, int instructionsEnd) {
    }

    /** A CIE: alignment factors, return address register, pointer encoding, initial instructions. */
    public record Cie(int offset, long codeAlign, long dataAlign, int returnRegister, int fdeEncoding, boolean signalFrame,
                      boolean hasAugmentationData, int instructionsAt, int instructionsEnd) {
    }

    private final ByteBuffer ehFrame;
    private final long ehFrameAddress;
    private final ByteBuffer hdr;
    private final long hdrAddress;
    private final Map<Integer, Cie> cies = new HashMap<>();
    private List<Fde> all;

    private CallFrameInfo(ByteBuffer ehFrame, long ehFrameAddress, ByteBuffer hdr, long hdrAddress) {
        this.ehFrame = ehFrame;
        this.ehFrameAddress = ehFrameAddress;
        this.hdr = hdr;
        this.hdrAddress = hdrAddress;
    }

    static CallFrameInfo of(ElfFile elf) {
        Optional<ElfFile.Section> eh = elf.section(".eh_frame");
        Optional<ElfFile.Section> h = elf.section(".eh_frame_hdr");
        ByteBuffer empty = ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        return new CallFrameInfo(eh.map(elf::bytes).orElse(empty), eh.map(ElfFile.Section::address).orElse(0L),
                h.map(elf::bytes).orElse(null), h.map(ElfFile.Section::address).orElse(0L));
    }

    /** The bytes of .eh_frame, as the CFA program reads its instructions. */
    ByteBuffer ehFrame() {
        return ehFrame;
    }

    /** True when the file has call frame information at all. */
    public boolean present() {
        return ehFrame.limit() > 0;
    }

    /** Every FDE of .eh_frame in address order (a scan of the whole section). */
    public synchronized List<Fde> fdes() {
        if (all == null) {
            List<Fde> out = new ArrayList<>();
            int at = 0;
            while (at + 4 <= ehFrame.limit()) {
                long length = Integer.toUnsignedLong(ehFrame.getInt(at));
                int headerSize = 4;
                if (length == 0) break; // the terminator
                if (length == 0xffffffffL) {
                    length = ehFrame.getLong(at + 4);
                    headerSize = 12;
                }
                int idAt = at + headerSize;
                long next = idAt + length;
                if (next > ehFrame.limit() || length < 4) throw new ElfException("damaged .eh_frame entry at offset " + at);
                int id = ehFrame.getInt(idAt);
                if (id != 0) out.add(fdeAt(at));
                at = (int) next;
            }
            out.sort(Comparator.comparingLong(Fde::start));
            all = List.copyOf(out);
        }
        return all;
    }

    /** The FDE covering unrelocated address {@code pc}, if any. */
    public Optional<Fde> find(long pc) {
        if (hdr != null && hdr.limit() >= 12 && hdr.get(0) == 1) {
            Optional<Fde> viaTable = findInTable(pc);
            if (viaTable != null) return viaTable;
        }
        List<Fde> fdes = fdes();
        int lo = 0;
        int hi = fdes.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Fde f = fdes.get(mid);
            if (pc < f.start()) hi = mid - 1;
            else if (pc >= f.end()) lo = mid + 1;
            else return Optional.of(f);
        }
        return Optional.empty();
    }

    /** Through .eh_frame_hdr's binary search table; null when its encodings are not the usual ones. */
    private Optional<Fde> findInTable(long pc) {
        int ehPtrEnc = Byte.toUnsignedInt(hdr.get(1));
        int countEnc = Byte.toUnsignedInt(hdr.get(2));
        int tableEnc = Byte.toUnsignedInt(hdr.get(3));
        if (tableEnc != 0x3b || countEnc == DW_EH_PE_OMIT) return null; // datarel|sdata4, as GNU ld writes it
        Reader r = new Reader(hdr, 4, hdrAddress);
        r.pointer(ehPtrEnc, hdrAddress);
        long count = r.pointer(countEnc, hdrAddress);
        int table = r.at;
        if (count <= 0 || table + count * 8 > hdr.limit()) return null;
        long lo = 0;
        long hi = count - 1;
        long found = -1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            long start = hdrAddress + hdr.getInt((int) (table + mid * 8));
            if (Long.compareUnsigned(start, pc) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0) return Optional.empty();
        long fdeAddress = hdrAddress + hdr.getInt((int) (table + found * 8 + 4));
        long offset = fdeAddress - ehFrameAddress;
        if (offset < 0 || offset >= ehFrame.limit()) return null;
        Fde f = fdeAt((int) offset);
        return pc >= f.start() && pc < f.end() ? Optional.of(f) : Optional.empty();
    }

    private synchronized Fde fdeAt(int at) {
        int headerSize = Integer.toUnsignedLong(ehFrame.getInt(at)) == 0xffffffffL ? 12 : 4;
        long length = headerSize == 12 ? ehFrame.getLong(at + 4) : Integer.toUnsignedLong(ehFrame.getInt(at));
        int idAt = at + headerSize;
        int end = (int) (idAt + length);
        int ciePointer = ehFrame.getInt(idAt);
        Cie cie = cieAt(idAt - ciePointer);
        Reader r = new Reader(ehFrame, idAt + 4, ehFrameAddress);
        long start = r.pointer(cie.fdeEncoding(), 0);
        long range = r.pointer(cie.fdeEncoding() & 0x0f, 0);
        if (cie.hasAugmentationData()) {
            long augLength = r.uleb();
            r.at += (int) augLength;
        }
        return new Fde(start, start + range, at, cie, r.at, end);
    }

    private Cie cieAt(int at) {
        Cie known = cies.get(at);
        if (known != null) return known;
        if (at < 0 || at + 8 > ehFrame.limit()) throw new ElfException("an FDE points to a CIE outside .eh_frame (offset " + at + ")");
        int headerSize = Integer.toUnsignedLong(ehFrame.getInt(at)) == 0xffffffffL ? 12 : 4;
        long length = headerSize == 12 ? ehFrame.getLong(at + 4) : Integer.toUnsignedLong(ehFrame.getInt(at));
        int idAt = at + headerSize;
        int end = (int) (idAt + length);
        Reader r = new Reader(ehFrame, idAt + 4, ehFrameAddress);
        int version = r.u8();
        StringBuilder aug = new StringBuilder();
        for (int c = r.u8(); c != 0; c = r.u8()) aug.append((char) c);
        String augmentation = aug.toString();
        if (augmentation.contains("eh")) r.at += 8;
        long codeAlign = r.uleb();
        long dataAlign = r.sleb();
        int ra = version == 1 ? r.u8() : (int) r.uleb();
        int fdeEncoding = 0;
        boolean signal = false;
        boolean z = augmentation.startsWith("z");
        if (z) {
            long augLength = r.uleb();
            int augEnd = r.at + (int) augLength;
            for (int i = 1; i < augmentation.length(); i++) {
                switch (augmentation.charAt(i)) {
                    case 'R' -> fdeEncoding = r.u8();
                    case 'L' -> r.u8();
                    case 'P' -> {
                        int enc = r.u8();
                        r.pointer(enc & 0x7f, 0);
                    }
                    case 'S' -> signal = true;
                    default -> i = augmentation.length(); // unknown: the length lets us skip the rest
                }
            }
            r.at = augEnd;
        }
        Cie cie = new Cie(at, codeAlign, dataAlign, ra, fdeEncoding, signal, z, r.at, end);
        cies.put(at, cie);
        return cie;
    }

    /** A cursor over .eh_frame bytes that knows the DW_EH_PE pointer encodings. */
    static final class Reader {
        final ByteBuffer b;
        int at;
        final long sectionAddress;

        Reader(ByteBuffer b, int at, long sectionAddress) {
            this.b = b;
            this.at = at;
            this.sectionAddress = sectionAddress;
        }

        int u8() {
            return Byte.toUnsignedInt(b.get(at++));
        }

        int u16() {
            int v = Short.toUnsignedInt(b.getShort(at));
            at += 2;
            return v;
        }

        long u32() {
            long v = Integer.toUnsignedLong(b.getInt(at));
            at += 4;
            return v;
        }

        long u64() {
            long v = b.getLong(at);
            at += 8;
            return v;
        }

        long uleb() {
            long result = 0;
            int shift = 0;
            while (true) {
                int byt = u8();
                if (shift < 64) result |= (long) (byt & 0x7f) << shift;
                shift += 7;
                if ((byt & 0x80) == 0) return result;
            }
        }

        long sleb() {
            long result = 0;
            int shift = 0;
            int byt;
            do {
                byt = u8();
                if (shift < 64) result |= (long) (byt & 0x7f) << shift;
                shift += 7;
            } while ((byt & 0x80) != 0);
            if (shift < 64 && (byt & 0x40) != 0) result |= -1L << shift;
            return result;
        }

        /** A pointer in encoding {@code enc}; {@code dataBase} for datarel. */
        long pointer(int enc, long dataBase) {
            if (enc == DW_EH_PE_OMIT) return 0;
            long fieldAddress = sectionAddress + at;
            long v = switch (enc & 0x0f) {
                case 0x00 -> u64();
                case 0x01 -> uleb();
                case 0x02 -> u16();
                case 0x03 -> u32();
                case 0x04 -> u64();
                case 0x09 -> sleb();
                case 0x0a -> {
                    long s = b.getShort(at);
                    at += 2;
                    yield s;
                }
                case 0x0b -> {
                    long s = b.getInt(at);
                    at += 4;
                    yield s;
                }
                case 0x0c -> u64();
                default -> throw new ElfException("unknown pointer encoding 0x" + Integer.toHexString(enc) + " in .eh_frame");
            };
            return switch (enc & 0x70) {
                case 0x00 -> v;
                case 0x10 -> v + fieldAddress;
                case 0x30 -> v + dataBase;
                default -> throw new ElfException("unsupported pointer encoding 0x" + Integer.toHexString(enc) + " in .eh_frame");
            };
        }

        byte[] block(int n) {
            byte[] out = new byte[n];
            b.get(at, out);
            at += n;
            return out;
        }
    }

    @Override
    public String toString() {
        return "CallFrameInfo[.eh_frame at 0x" + Long.toHexString(ehFrameAddress) + ", " + ehFrame.limit() + " bytes]";
    }
}
