package io.vineyard.client.registry;

import io.vineyard.client.meta.ObjectMeta;

import java.util.List;

/** A user type, found through the test classpath's service entry (the docs' example). */
public final class PointType implements VineyardType<PointType.Point> {
    /** The user's value. */
    public record Point(double x, double y) {
    }

    /** Service constructor. */
    public PointType() {
    }

    @Override
    public Class<Point> javaType() {
        return Point.class;
    }

    @Override
    public List<String> typenamePrefixes() {
        return List.of("my::Point");
    }

    @Override
    public ObjectMeta build(BuildContext ctx, Point p) {
        return new ObjectMeta("my::Point").put("x_", p.x()).put("y_", p.y());
    }

    @Override
    public Point resolve(ResolveContext ctx, ObjectMeta m) {
        return new Point(m.getDouble("x_"), m.getDouble("y_"));
    }
}
