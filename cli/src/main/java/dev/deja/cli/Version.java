package dev.deja.cli;

import dev.deja.formats.RecordingFormat;
import picocli.CommandLine.IVersionProvider;

final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Version.class.getPackage().getImplementationVersion();
        return new String[] {"deja " + (v == null ? "development build" : v) + ", recording format "
                + RecordingFormat.CURRENT_VERSION};
    }
}
