using ScottPlot;

namespace Backprop.Samples;

/// <summary>Draws the training and validation curves of a <see cref="TrainingHistory"/> into a PNG with ScottPlot.</summary>
internal static class TrainingPlot
{
    /// <summary>Writes two stacked plots, loss and accuracy by epoch, training and (when recorded) validation, into
    /// <paramref name="folder"/>/<paramref name="fileName"/> and returns the file's full path.</summary>
    public static string Save(TrainingHistory history, string folder, string fileName, string title)
    {
        bool hasFont = UseAvailableFont();
        double[] epochs = Enumerable.Range(1, history.EpochsCompleted).Select(e => (double)e).ToArray();

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        var loss = multiplot.GetPlot(0);
        Line(loss, epochs, history.Loss, "training loss");
        Line(loss, epochs, history.ValidationLoss, "validation loss");
        loss.Title(title);
        loss.YLabel("cross-entropy");
        loss.ShowLegend(Alignment.UpperRight);

        var accuracy = multiplot.GetPlot(1);
        Line(accuracy, epochs, history.Accuracy, "training accuracy");
        Line(accuracy, epochs, history.ValidationAccuracy, "validation accuracy");
        accuracy.XLabel("epoch");
        accuracy.YLabel("accuracy");
        accuracy.ShowLegend(Alignment.LowerRight);

        Directory.CreateDirectory(folder);
        string path = Path.GetFullPath(Path.Combine(folder, fileName));
        multiplot.SavePng(path, 800, 700);
        if (!hasFont)
        {
            Console.WriteLine("note: no font was found on this machine, so the plot has no text; install one (e.g. fonts-dejavu-core) for labels.");
        }

        return path;
    }

    private static void Line(Plot plot, double[] epochs, IReadOnlyList<double> values, string label)
    {
        if (values.Count == 0)
        {
            return;
        }

        var scatter = plot.Add.Scatter(epochs[..values.Count], values.ToArray());
        scatter.LegendText = label;
        scatter.MarkerSize = epochs.Length > 30 ? 0 : 4;
    }

    /// <summary>Picks a sans-serif font the renderer can find; returns false when there is no font at all, which
    /// happens on minimal Linux images (SkiaSharp then draws shapes but no text).</summary>
    private static bool UseAvailableFont()
    {
        foreach (string name in new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica" })
        {
            using var typeface = SkiaSharp.SKFontManager.Default.MatchFamily(name);
            if (typeface is not null && typeface.GlyphCount > 0)
            {
                Fonts.Default = name;
                return true;
            }
        }

        return SkiaSharp.SKTypeface.Default.GlyphCount > 0;
    }
}
