/*
 * The territory map (template territory/_map.html): the organisation's communes as circles.
 *
 * Reads everything from the container's data attributes (no inline script: CSP):
 *   data-geojson-url         the communes as a GeoJSON FeatureCollection of points
 *   data-tile-url            tile server; empty = no tiles, the points show on a plain background
 *   data-tile-attribution    attribution of the tiles
 *   data-label-*             French texts of the page (translated server-side)
 * When done, sets data-loaded="true" and data-marker-count="N" (browser tests wait on them);
 * on failure data-loaded="error" and a message replaces the map.
 * Requires Leaflet (static/vendor/leaflet/leaflet.js) loaded by the page.
 */
(function () {
  "use strict";

  var FRANCE = [46.6, 2.4];
  var STYLE = { color: "#153a5b", weight: 2, fillColor: "#1d4f7c", fillOpacity: 0.45 };

  function formatPopulation(value, labels) {
    if (value === null || value === undefined) {
      return labels.populationUnknown;
    }
    return value.toLocaleString("fr-FR") + " " + labels.inhabitants;
  }

  // Built with DOM nodes, never HTML strings: commune names are data, not markup.
  function label(feature, labels) {
    var box = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = feature.properties.name;
    box.appendChild(name);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(formatPopulation(feature.properties.population, labels)));
    return box;
  }

  function radius(population, largest) {
    if (!population || !largest) {
      return 6;
    }
    return 6 + 14 * Math.sqrt(population / largest);
  }

  function fail(container, message) {
    container.dataset.loaded = "error";
    var text = document.createElement("p");
    text.className = "territory-map-message";
    text.setAttribute("role", "status");
    text.textContent = message;
    container.appendChild(text);
  }

  function draw(map, container, collection, labels) {
    var features = collection.features || [];
    var largest = features.reduce(function (top, feature) {
      return Math.max(top, feature.properties.population || 0);
    }, 0);
    var layer = window.L.geoJSON(collection, {
      pointToLayer: function (feature, latlng) {
        var options = Object.assign({}, STYLE, { radius: radius(feature.properties.population, largest) });
        return window.L.circleMarker(latlng, options);
      },
      onEachFeature: function (feature, marker) {
        marker.bindTooltip(label(feature, labels));
        marker.bindPopup(label(feature, labels));
      }
    }).addTo(map);
    var count = layer.getLayers().length;
    if (count > 0) {
      map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 13 });
    }
    container.dataset.markerCount = String(count);
    container.dataset.loaded = "true";
  }

  function init(container) {
    var labels = {
      inhabitants: container.dataset.labelInhabitants || "",
      populationUnknown: container.dataset.labelPopulationUnknown || "",
      error: container.dataset.labelError || ""
    };
    if (!window.L) {
      fail(container, labels.error);
      return;
    }
    var map = window.L.map(container, { scrollWheelZoom: false }).setView(FRANCE, 6);
    if (container.dataset.tileUrl) {
      window.L.tileLayer(container.dataset.tileUrl, {
        attribution: container.dataset.tileAttribution || "",
        maxZoom: 19
      }).addTo(map);
    }
    fetch(container.dataset.geojsonUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/geo+json, application/json" }
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (collection) {
        draw(map, container, collection, labels);
      })
      .catch(function () {
        fail(container, labels.error);
      });
  }

  function start() {
    var container = document.getElementById("territory-map");
    if (container && !container.dataset.loaded) {
      init(container);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
